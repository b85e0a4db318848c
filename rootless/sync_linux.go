package rootless

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// syncFD is the descriptor number of the sync socket in a re-executed stage: the
// fourth entry of syscall.ProcAttr.Files, after stdin, stdout and stderr.
const syncFD = 3

// message is one SOCK_SEQPACKET datagram between two stages. Seqpacket keeps message
// boundaries, so each JSON value arrives whole and alone, with any descriptors it
// carries (SCM_RIGHTS, see unix(7)).
type message struct {
	Type string `json:"type"` // see the msg* constants
	Spec *Spec  `json:"spec,omitempty"`
	// Error and Code describe a failure of the init: Code is the exit status ccrun
	// should use (125 set-up failed, 126 cannot execute, 127 not found).
	Error string `json:"error,omitempty"`
	Hint  string `json:"hint,omitempty"`
	Code  int    `json:"code,omitempty"`
	// Path is the directory a remove message asks to delete.
	Path string `json:"path,omitempty"`
}

const (
	msgMapped = "mapped" // P0 -> P1: the uid/gid maps are written; go on
	msgSpec   = "spec"   // P0 -> P2: the container to build (after the maps, rootless)
	msgPty    = "pty"    // P2 -> P0: the terminal's master side, as SCM_RIGHTS
	msgError  = "error"  // P2 -> P0: set-up or exec failed
	msgRemove = "remove" // P0 -> the remover: delete this directory (see RemoveAll)
)

// maxMessage bounds a message; the spec is a few kilobytes.
const maxMessage = 1 << 20

func socketPair() (parent, peer *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("create sync socket: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync"), os.NewFile(uintptr(fds[1]), "sync"), nil
}

func send(f *os.File, m message, fds ...int) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", m.Type, err)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	slog.Debug("sync: send", "type", m.Type, "bytes", len(b), "fds", len(fds))
	if err := unix.Sendmsg(int(f.Fd()), b, oob, nil, 0); err != nil {
		return fmt.Errorf("send %s message: %w", m.Type, err)
	}
	return nil
}

// recv reads one message; io.EOF means the peer closed its end (for P2: it exec'd).
func recv(f *os.File) (message, []int, error) {
	var m message
	oob := make([]byte, unix.CmsgSpace(4*4))
	for {
		// Peek at the size first (MSG_TRUNC gives a datagram's whole length), so
		// that a spec of a few kilobytes does not cost a megabyte of zeroed memory.
		size, _, _, _, err := unix.Recvmsg(int(f.Fd()), nil, nil, unix.MSG_PEEK|unix.MSG_TRUNC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return m, nil, fmt.Errorf("receive message: %w", err)
		}
		if size > maxMessage {
			return m, nil, fmt.Errorf("receive message: %d bytes, more than %d", size, maxMessage)
		}
		buf := make([]byte, max(size, 1))
		n, oobn, flags, _, err := unix.Recvmsg(int(f.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return m, nil, fmt.Errorf("receive message: %w", err)
		}
		if n == 0 && oobn == 0 {
			return m, nil, io.EOF
		}
		fds, err := parseRights(oob[:oobn])
		if err != nil {
			return m, nil, err
		}
		if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
			closeAll(fds) // installed even when the message was cut
			return m, nil, errors.New("receive message: truncated")
		}
		if err := json.Unmarshal(buf[:n], &m); err != nil {
			closeAll(fds)
			return m, nil, fmt.Errorf("decode message: %w", err)
		}
		slog.Debug("sync: recv", "type", m.Type, "bytes", n, "fds", len(fds))
		return m, fds, nil
	}
}

func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	scms, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("parse control message: %w", err)
	}
	var fds []int
	for _, scm := range scms {
		got, err := unix.ParseUnixRights(&scm)
		if err != nil {
			closeAll(fds)
			return nil, fmt.Errorf("parse descriptors: %w", err)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
