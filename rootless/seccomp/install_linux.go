package seccomp

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Install makes prog (from Compile) the seccomp filter of every thread of the
// calling process, with seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC):
// all of the Go runtime's threads get it, so it holds whichever thread calls
// execve. An empty prog installs nothing (seccomp=unconfined).
//
// The kernel accepts a filter from a process that has set no_new_privs
// (prctl(PR_SET_NO_NEW_PRIVS)) or that holds CAP_SYS_ADMIN in its user
// namespace. So with --security-opt no-new-privileges=false, Install must run
// before the capabilities are dropped, and the filter must allow whatever the
// process does between Install and execve (the default profile allows setuid,
// setgroups, capset and prctl). Filters stack and can never be removed.
func Install(prog []byte) error {
	if len(prog) == 0 {
		return nil
	}
	insns, err := unmarshal(prog)
	if err != nil {
		return fmt.Errorf("install seccomp filter: %w", err)
	}
	filter := make([]unix.SockFilter, len(insns))
	for i, in := range insns {
		filter[i] = unix.SockFilter{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(filter)
	switch {
	case errno == unix.EACCES:
		return fmt.Errorf("install seccomp filter: %w (the process needs no_new_privs or CAP_SYS_ADMIN)", errno)
	case errno != 0:
		return fmt.Errorf("install seccomp filter: %w", errno)
	case r != 0:
		// With TSYNC, a positive return is a thread that could not be synchronized.
		return fmt.Errorf("install seccomp filter: thread %d has a conflicting filter", r)
	}
	return nil
}
