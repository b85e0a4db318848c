package rootless

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/rootless/reaper"
)

// ReaperName is argv[0] of the --init reaper, PID 1 of a container run with --init.
const ReaperName = reaper.Name

// reaperProgram is cmd/ccrun-init (package reaper), which the Makefile builds
// before ccrun.
//
//go:embed ccrun-init
var reaperProgram string

// sealedReaper writes the reaper into a sealed memfd (memfd_create(2), fcntl(2)
// F_ADD_SEALS), from which the init executes it: a process in the container that
// opens /proc/1/exe reaches an anonymous, unwritable file, never a binary on the
// host, which it could otherwise overwrite to run code as the next user of it
// (CVE-2019-5736).
func sealedReaper() (*os.File, error) {
	if len(reaperProgram) == 0 {
		return nil, errors.New("this ccrun was built without its --init reaper: build ccrun with make")
	}
	fd, err := unix.MemfdCreate(ReaperName, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), ReaperName)
	if _, err := io.WriteString(f, reaperProgram); err != nil {
		f.Close()
		return nil, fmt.Errorf("write the reaper to a memfd: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal the memfd: %w", err)
	}
	return f, nil
}

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
