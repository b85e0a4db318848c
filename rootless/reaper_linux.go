package rootless

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ReaperName is argv[0] of the --init reaper, PID 1 of a container run with --init.
const ReaperName = "ccrun-init"

// sealedSelf copies ccrun's own executable into a sealed memfd (memfd_create(2),
// fcntl(2) F_ADD_SEALS). The reaper runs from that copy: a process in the container
// that opens /proc/1/exe reaches an anonymous, unwritable file, never the ccrun binary
// on the host, which it could otherwise overwrite to run code as the next user of
// ccrun (CVE-2019-5736).
func sealedSelf() (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("open own executable: %w", err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate(ReaperName, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), ReaperName)
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy own executable to a memfd: %w", err)
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

// reaperSignals are passed on to the command; SIGCHLD is the reaper's own business.
var reaperSignals = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGWINCH, unix.SIGALRM, unix.SIGCONT, unix.SIGCHLD,
}

// ReaperMain is PID 1 of a container run with --init: it starts the command (args[0]
// is its resolved path, args[1:] its argv), forwards signals to it, reaps every
// orphan the kernel re-parents to PID 1, and exits as the command did. It never
// returns.
func ReaperMain(args []string) {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "ccrun-init: no command")
		os.Exit(125)
	}
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, reaperSignals...)
	tty := IsTerminal(0)
	attr := &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		// With a terminal the command gets a process group of its own in the
		// foreground, so that Ctrl-C reaches it and not the reaper.
		Sys: &syscall.SysProcAttr{Setpgid: true, Foreground: tty, Ctty: 0},
	}
	child, err := syscall.ForkExec(args[0], args[1:], attr)
	if err != nil {
		ee := execError(args[1], err).(*ExecError)
		fmt.Fprintf(os.Stderr, "ccrun: %v\n", ee)
		os.Exit(ee.Code)
	}
	for sig := range sigs {
		if sig != unix.SIGCHLD {
			_ = unix.Kill(child, sig.(syscall.Signal))
			continue
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err != nil || pid <= 0 {
				break
			}
			if pid == child {
				os.Exit(ExitCode(ws))
			}
		}
	}
}

// ExitCode is the shell's view of a wait status: the exit code, or 128+N after a
// fatal signal N.
func ExitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
