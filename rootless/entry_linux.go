package rootless

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/rootless/child"
)

// # The user namespace before Go starts
//
// A rootless init must be created in a new user namespace, and the namespaces it
// is PID 1 and has its mounts in must be owned by that one. clone(2) with
// CLONE_NEWUSER does it in one step, but Go then forks P0 in full: the kernel
// copies P0's page tables and write-protects its pages, so P0 then takes a page
// fault at its first write to each, and newuidmap cannot start before the
// child's exec (Go's syscall.forkExec uses CLONE_VM|CLONE_VFORK only without
// CLONE_NEWUSER, because a vfork child shares its parent's memory and would
// block it). On the 2-CPU test machines that fork costs 0.3 to 0.45 ms more
// than a vfork, on the way to every rootless container, and P0's page faults
// after it come on top.
//
// Nor can a Go program make a user namespace for itself: unshare(2) refuses
// CLONE_NEWUSER to a process with more than one thread, and Go's runtime starts
// its threads before any Go code runs. runc solves it in C, in a constructor that
// runs before its Go runtime (nsexec). ccrun does the same in a few lines of
// assembly: with the Makefile's build, the ELF entry point of ccrun is
// ccrun_rt0_amd64_linux (entry_linux_amd64.s), not the Go runtime's. It looks at
// argv; unless it is exactly [InitName, userNSArg] it jumps straight to the
// runtime's own entry point. For the init it is:
//
//  1. P0 vforks and executes ccrun as [InitName, userNSArg] (cheap: nothing is
//     copied).
//  2. That process, still single-threaded and before the runtime, calls
//     unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID): the kernel makes the user
//     namespace first and the others owned by it, and gives the caller every
//     capability in it (user_namespaces(7)). Being the owner, it keeps its
//     parent-death signal and stays dumpable, so newuidmap may write its maps.
//  3. It forks with CLONE_PARENT: the new process is PID 1 of the new PID
//     namespace (pid_namespaces(7)), and a child of P0, not of its own parent.
//     That child sets its parent-death signal and jumps to the Go runtime: it is
//     the init, and starts Go as any program does.
//  4. The first process writes the init's pid, or which step failed and its
//     errno, to the sync socket (entryReport), and exits. P0 reaps it, reads the
//     report, and starts newuidmap and newgidmap on the init.
//
// A ccrun built without the entry point (plain `go build`, or another
// architecture) never sets entryHooked, and P0 falls back to Go's clone with
// CLONE_NEWUSER, which does the same in one step, only slower.

// userNSArg is argv[1] of an init that the entry point puts in a new user
// namespace of its own (see above).
const userNSArg = "--userns"

// The entry point compares argv with these words, loaded 8 bytes at a time
// (an assembler has no strings): the 15 bytes of InitName and its NUL as
// bytes 0-7 and 7-14, and the 9 of userNSArg as bytes 0-7 and byte 8, the NUL.
// TestEntryWordsMatchNames keeps them equal to the names.
const (
	entryInitWord0 = 0x325b3a6e75726363 // "ccrun:[2"
	entryInitWord7 = 0x005d74696e693a32 // "2:init]\x00"
	entryArgWord0  = 0x736e726573752d2d // "--userns"
)

// entryUnshareFlags are the namespaces the entry point unshares: the user
// namespace and, owned by it, those of cloneFlags.
const entryUnshareFlags = unix.CLONE_NEWUSER | cloneFlags

// entryCloneFlags make the init a sibling of the unsharing process, a child of
// P0. (With CLONE_PARENT the exit signal is the caller's: SIGCHLD.)
const entryCloneFlags = unix.CLONE_PARENT | int(unix.SIGCHLD)

// The steps of the entry point that can fail, as it reports them.
const (
	entryStepDone    = 0
	entryStepUnshare = 1
	entryStepClone   = 2
)

// Written by the entry point before the Go runtime starts (entry_linux_amd64.s).
var (
	// entryHooked is 1 in a ccrun whose ELF entry point is ccrun's.
	entryHooked uint32
	// entryReport is what the unsharing process writes to the sync socket: the
	// step it reached, and the init's pid, or the errno of the step that failed.
	entryReport [2]int32
)

// entryAvailable says whether this ccrun was built with its entry point, so an
// init of it can make its user namespace before Go starts.
func entryAvailable() bool { return entryHooked == 1 }

// readEntryReport is step 4 of the above, P0's side, once it has started the
// unsharing process mid: it reaps mid, then takes mid's report from sync,
// where nothing else can come first, and returns the pid of the init. mid
// writes its report before it exits, so once mid is reaped the report is
// there or never will be: nothing waits on a process that was killed.
func readEntryReport(sync *os.File, mid int) (int, error) {
	ws, err := child.Reap(mid)
	if err != nil {
		return 0, fmt.Errorf("wait for the init's first stage: %w", err)
	}
	b := make([]byte, 8)
	n, _, err := unix.Recvfrom(int(sync.Fd()), b, unix.MSG_DONTWAIT)
	switch {
	case errors.Is(err, unix.EAGAIN) || (err == nil && n == 0):
		return 0, fmt.Errorf("the init's first stage ended (%s) without a report", child.ExitDescription(ws))
	case err != nil:
		return 0, fmt.Errorf("read the report of the init's first stage: %w", err)
	case n != len(b):
		return 0, fmt.Errorf("the init's first stage sent a report of %d bytes, want %d", n, len(b))
	}
	return decodeEntryReport(b)
}

// decodeEntryReport turns the 8 bytes of entryReport, as written on this
// machine, into the init's pid or the error of the step that failed.
func decodeEntryReport(b []byte) (int, error) {
	step := int32(binary.NativeEndian.Uint32(b[0:4]))
	val := int32(binary.NativeEndian.Uint32(b[4:8]))
	switch step {
	case entryStepDone:
		if val <= 0 {
			return 0, fmt.Errorf("the init's first stage reported pid %d", val)
		}
		return int(val), nil
	case entryStepUnshare:
		return 0, userNSError(syscall.Errno(val))
	case entryStepClone:
		return 0, fmt.Errorf("fork the init in its new namespaces: %w", syscall.Errno(val))
	}
	return 0, fmt.Errorf("the init's first stage sent an unknown report (step %d, value %d)", step, val)
}
