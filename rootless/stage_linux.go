package rootless

import "os"

// The stages ccrun re-executes itself for (the init, the --init reaper) are
// dispatched here, in this package's init function, rather
// than in main: Go initialises packages in import-path order as their imports are
// ready, so this runs before the ~600 packages that containers/image and
// containers/storage bring in have initialised, and a stage that does not use them
// does not pay for them (see `GODEBUG=inittrace=1 ccrun ...`). None of the stages
// returns.
func init() {
	if len(os.Args) == 0 {
		return
	}
	switch {
	case os.Args[0] == InitName:
		InitMain()
	case os.Args[0] == ReaperName:
		ReaperMain(os.Args[1:])
	}
}
