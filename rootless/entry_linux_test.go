package rootless

import (
	"encoding/binary"
	"errors"
	"strings"
	"syscall"
	"testing"
)

// TestEntryWordsMatchNames: the words the entry point compares argv with are
// InitName and userNSArg, with their NULs.
func TestEntryWordsMatchNames(t *testing.T) {
	word := func(s string, at int) uint64 { return binary.LittleEndian.Uint64([]byte(s)[at : at+8]) }
	name := InitName + "\x00"
	if len(name) != 15 {
		t.Fatalf("InitName has %d bytes; the entry point compares 14 and the NUL", len(name)-1)
	}
	if word(name, 0) != entryInitWord0 || word(name, 7) != entryInitWord7 {
		t.Errorf("entryInitWord0/7 = %#x/%#x, want %#x/%#x (InitName %q)", uint64(entryInitWord0), uint64(entryInitWord7), word(name, 0), word(name, 7), InitName)
	}
	if len(userNSArg) != 8 || word(userNSArg, 0) != entryArgWord0 {
		t.Errorf("entryArgWord0 = %#x, want the 8 bytes of userNSArg %q", uint64(entryArgWord0), userNSArg)
	}
}

func TestDecodeEntryReport(t *testing.T) {
	report := func(step, val int32) []byte {
		b := make([]byte, 8)
		binary.NativeEndian.PutUint32(b[0:4], uint32(step))
		binary.NativeEndian.PutUint32(b[4:8], uint32(val))
		return b
	}
	pid, err := decodeEntryReport(report(entryStepDone, 4242))
	if err != nil || pid != 4242 {
		t.Errorf("done: pid %d, %v; want 4242", pid, err)
	}
	tests := []struct {
		name      string
		step, val int32
		want      string
		errno     syscall.Errno
		hint      bool
	}{
		{"no pid", entryStepDone, 0, "reported pid 0", 0, false},
		{"unshare EPERM", entryStepUnshare, int32(syscall.EPERM), "create user namespace: operation not permitted", syscall.EPERM, true},
		{"unshare ENOSPC", entryStepUnshare, int32(syscall.ENOSPC), "create user namespace", syscall.ENOSPC, true},
		{"unshare EINVAL", entryStepUnshare, int32(syscall.EINVAL), "create user namespace: invalid argument", syscall.EINVAL, false},
		{"clone EAGAIN", entryStepClone, int32(syscall.EAGAIN), "fork the init in its new namespaces", syscall.EAGAIN, false},
		{"unknown step", 7, 1, "unknown report (step 7", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid, err := decodeEntryReport(report(tt.step, tt.val))
			if err == nil || pid != 0 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got pid %d, %v; want an error with %q", pid, err, tt.want)
			}
			if tt.errno != 0 && !errors.Is(err, tt.errno) {
				t.Errorf("%v does not wrap %v", err, tt.errno)
			}
			var h *HintError
			if errors.As(err, &h) != tt.hint {
				t.Errorf("%v: hint %v, want %v", err, errors.As(err, &h), tt.hint)
			}
		})
	}
}
