package rootless

import (
	"context"
	"log/slog"
	"os"
)

// The init stage (P2), which ccrun re-executes itself for, is dispatched here, in
// this package's init function, rather than in main: Go initialises packages in
// import-path order as their imports are ready, so this runs before the
// packages that D-Bus, the store and the CLI bring in have initialised, and the
// init, which does not use them, does not pay for them (see
// `GODEBUG=inittrace=1 ccrun ...`). The same goes for the remover (see
// RemoveAll). Neither returns. (The --init reaper is a program of its own: see
// package reaper.)
//
// The init runs on one P (GOMAXPROCS=1 in the environment it is started with,
// see stageEnv): its work is a sequence of system calls, and more Ps only make
// the Go scheduler wake threads that find nothing to do, which costs context
// switches on every start. (P0, which runs a goroutine beside its main one
// while the init starts, keeps a P per CPU: see cmd/ccrun's main.) Set in the
// environment, it costs nothing; runtime.GOMAXPROCS(1) would stop the world
// to drop the others.
func init() {
	if len(os.Args) == 0 {
		return
	}
	switch os.Args[0] {
	case InitName:
		InitMain()
	case RemoverName:
		removerMain()
	}
}

// stageEnv is the whole environment of a stage ccrun starts from itself (the
// init, the remover): nothing of the caller's, one P, and --debug's logging.
func stageEnv() []string {
	env := []string{"GOMAXPROCS=1"}
	if slog.Default().Enabled(context.Background(), slog.LevelDebug) {
		env = append(env, "CCRUN_DEBUG=1")
	}
	return env
}
