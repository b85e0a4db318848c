package rootless

import (
	_ "embed"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/rootless/child"
	"github.com/ccrun/ccrun/rootless/reaper"
)

// ReaperName is argv[0] of the --init reaper, PID 1 of a container run with --init.
const ReaperName = reaper.Name

// reaperProgram is cmd/ccrun-init (package reaper), which the Makefile builds
// before ccrun.
//
//go:embed ccrun-init
var reaperProgram string

// sealedReaper is the reaper in a sealed memfd, from which the init executes it:
// /proc/1/exe of the container is then an anonymous, unwritable file
// (CVE-2019-5736; see package child).
func sealedReaper() (*os.File, error) { return child.Sealed(ReaperName, reaperProgram) }

// execveat executes the file open on fd (execveat(2) with AT_EMPTY_PATH).
func execveat(fd uintptr, argv, env []string) error {
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	envp, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return err
	}
	empty := []byte{0}
	_, _, errno := unix.Syscall6(unix.SYS_EXECVEAT, fd, uintptr(unsafe.Pointer(&empty[0])),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
	return errno
}

// ExitCode is the shell's view of a wait status: the exit code, or 128+N after a
// fatal signal N.
func ExitCode(ws syscall.WaitStatus) int { return reaper.ExitCode(ws) }
