package rootless

import (
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// newTerminal creates the container's terminal in its own devpts instance: the master
// goes to the supervisor over the sync socket, the returned slave becomes the
// command's stdio. The slave is opened from the master with TIOCGPTPEER, never by a
// path the image could have swapped for something else (CVE-2019-10152 class, see
// ioctl_tty(2)).
func newTerminal(root int, p Process, sync *os.File) (int, error) {
	master, err := openInRoot(root, "/dev/pts/ptmx", unix.O_RDWR|unix.O_NOCTTY)
	if err != nil {
		return -1, fmt.Errorf("open /dev/pts/ptmx: %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return -1, fmt.Errorf("unlock pty: %w", err)
	}
	slave, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno != 0 {
		return -1, fmt.Errorf("open pty peer: %w", errno)
	}
	if p.Rows > 0 && p.Cols > 0 {
		if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, &unix.Winsize{Row: p.Rows, Col: p.Cols}); err != nil {
			unix.Close(int(slave))
			return -1, fmt.Errorf("set window size: %w", err)
		}
	}
	slog.Debug("pty", "rows", p.Rows, "cols", p.Cols)
	if err := send(sync, message{Type: msgPty}, master); err != nil {
		unix.Close(int(slave))
		return -1, err
	}
	return int(slave), nil
}

// takeTerminal makes the pty slave the controlling terminal of the init's session
// (created by the supervisor with setsid) and its stdin, stdout and stderr.
func takeTerminal(slave int) error {
	if err := unix.IoctlSetInt(slave, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("set controlling terminal: %w", err)
	}
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("dup terminal to fd %d: %w", fd, err)
		}
	}
	return unix.Close(slave)
}

// Terminal is the caller's terminal while a container uses it.
type Terminal struct {
	fd    int
	saved *unix.Termios
}

// MakeRaw puts the terminal on fd in raw mode (cfmakeraw(3)): every key, Ctrl-C
// included, goes to the container's terminal, whose own line discipline then turns
// it into a signal for the container's foreground process.
func MakeRaw(fd int) (*Terminal, error) {
	saved, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, fmt.Errorf("read terminal settings: %w", err)
	}
	raw := *saved
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, fmt.Errorf("set terminal to raw mode: %w", err)
	}
	return &Terminal{fd: fd, saved: saved}, nil
}

// Restore puts the terminal back as it was.
func (t *Terminal) Restore() error {
	if err := unix.IoctlSetTermios(t.fd, unix.TCSETS, t.saved); err != nil {
		return fmt.Errorf("restore terminal settings: %w", err)
	}
	return nil
}

// IsTerminal reports whether fd is a terminal.
func IsTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// WindowSize returns the size of the terminal on fd, or zeros.
func WindowSize(fd int) (rows, cols uint16) {
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0
	}
	return ws.Row, ws.Col
}

// ResizePty copies the window size of the terminal on fd to the container's pty,
// which sends SIGWINCH to the container's foreground process group.
func ResizePty(pty *os.File, fd int) {
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	_ = unix.IoctlSetWinsize(int(pty.Fd()), unix.TIOCSWINSZ, ws)
}
