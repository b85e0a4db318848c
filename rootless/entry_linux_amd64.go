package rootless

import "golang.org/x/sys/unix"

// What entry_linux_amd64.s needs of the kernel's ABI, by name (its go_asm.h
// gives each as const_NAME).
const (
	sysWrite       = unix.SYS_WRITE
	sysUnshare     = unix.SYS_UNSHARE
	sysClone       = unix.SYS_CLONE
	sysPrctl       = unix.SYS_PRCTL
	sysExitGroup   = unix.SYS_EXIT_GROUP
	prSetPdeathsig = unix.PR_SET_PDEATHSIG
	sigKill        = int(unix.SIGKILL)
)
