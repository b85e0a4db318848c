package reaper

import (
	"fmt"
	"syscall"
	"testing"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		ws   syscall.WaitStatus
		want int
	}{
		{0, 0},
		{3 << 8, 3},
		{syscall.WaitStatus(syscall.SIGKILL), 137},
		{syscall.WaitStatus(syscall.SIGTERM), 143},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.ws); got != tt.want {
			t.Errorf("ExitCode(%#x) = %d, want %d", uint32(tt.ws), got, tt.want)
		}
	}
}

func TestExecCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{syscall.ENOENT, 127},
		{fmt.Errorf("exec: %w", syscall.ENOTDIR), 127},
		{syscall.EACCES, 126},
		{syscall.ENOEXEC, 126},
	}
	for _, tt := range tests {
		if got := ExecCode(tt.err); got != tt.want {
			t.Errorf("ExecCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
