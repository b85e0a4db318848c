package rootless

import (
	"os"
	"runtime"
)

// The init stage (P2), which ccrun re-executes itself for, is dispatched here, in
// this package's init function, rather than in main: Go initialises packages in
// import-path order as their imports are ready, so this runs before most of the
// ~250 packages that containers/storage and D-Bus bring in have initialised, and
// the init, which does not use them, does not pay for them (see
// `GODEBUG=inittrace=1 ccrun ...`). The same goes for the remover (see
// RemoveAll). Neither returns. (The --init reaper is a
// program of its own: see package reaper.)
//
// The init runs on one P (runtime.GOMAXPROCS(1)): its work is a sequence of system
// calls, and more Ps only make the Go scheduler wake threads that find nothing to
// do, which costs context switches on every start (see cmd/ccrun's main).
func init() {
	if len(os.Args) == 0 {
		return
	}
	switch os.Args[0] {
	case InitName:
		runtime.GOMAXPROCS(1)
		InitMain()
	case RemoverName:
		runtime.GOMAXPROCS(1)
		removerMain()
	}
}
