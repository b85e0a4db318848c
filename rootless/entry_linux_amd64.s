#include "go_asm.h"
#include "textflag.h"

// ccrun_rt0_amd64_linux is ccrun's ELF entry point: the Makefile links ccrun
// with -E ccrun_rt0_amd64_linux. It makes a rootless init's user namespace
// before the Go runtime starts, and otherwise only jumps to the runtime's own
// entry point. entry_linux.go says why and how; the steps below are numbered
// as there.
//
// At the entry point nothing is set up but the stack, which holds argc at
// 0(SP), then the pointers argv[0], argv[1], ..., each to a string ending in
// NUL, then the environment (System V x86-64 ABI, "Initial Process Stack").
// The runtime's entry point needs that stack and nothing else.
TEXT ccrun_rt0_amd64_linux(SB),NOSPLIT|NOFRAME,$0
	MOVL	$1, ·entryHooked(SB)

	// Only for argv == [InitName, userNSArg], compared 8 bytes at a time (the
	// strings lie on the stack, so reading past a short one stays in it).
	CMPQ	0(SP), $2
	JNE	runtime
	MOVQ	8(SP), SI
	MOVQ	$const_entryInitWord0, AX
	CMPQ	AX, 0(SI)
	JNE	runtime
	MOVQ	$const_entryInitWord7, AX
	CMPQ	AX, 7(SI)
	JNE	runtime
	MOVQ	16(SP), SI
	MOVQ	$const_entryArgWord0, AX
	CMPQ	AX, 0(SI)
	JNE	runtime
	CMPB	8(SI), $0
	JNE	runtime

	// 2. unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID). A system call
	// returns -errno in AX on failure.
	MOVQ	$const_sysUnshare, AX
	MOVQ	$const_entryUnshareFlags, DI
	SYSCALL
	MOVL	$const_entryStepUnshare, BX
	CMPQ	AX, $0
	JNE	failed

	// 3. clone(CLONE_PARENT|SIGCHLD) without a new stack: a fork, whose child
	// gets 0 and goes on with this very stack.
	MOVQ	$const_sysClone, AX
	MOVQ	$const_entryCloneFlags, DI
	XORQ	SI, SI
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	SYSCALL
	CMPQ	AX, $0
	JEQ	init
	MOVL	$const_entryStepClone, BX
	JLT	failed

	// 4. Report the init's pid and exit.
	MOVL	$const_entryStepDone, ·entryReport+0(SB)
	MOVL	AX, ·entryReport+4(SB)
	JMP	report
failed:
	NEGQ	AX
	MOVL	BX, ·entryReport+0(SB)
	MOVL	AX, ·entryReport+4(SB)
report:
	MOVQ	$const_sysWrite, AX
	MOVQ	$const_syncFD, DI
	LEAQ	·entryReport(SB), SI
	MOVQ	$8, DX
	SYSCALL
	MOVQ	$const_sysExitGroup, AX
	XORQ	DI, DI
	SYSCALL

init:
	// 3, in the init: the parent-death signal (SIGKILL when P0's thread that
	// started step 1 ends), which a fork does not inherit. Should it fail,
	// child.ParentAlive sets it again and fails then.
	MOVQ	$const_sysPrctl, AX
	MOVQ	$const_prSetPdeathsig, DI
	MOVQ	$const_sigKill, SI
	SYSCALL

runtime:
	JMP	_rt0_amd64_linux(SB)
