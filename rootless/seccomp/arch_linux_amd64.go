package seccomp

import "golang.org/x/sys/unix"

// x32SyscallBit marks x32 syscalls, which enter the kernel with the x86_64 arch
// value (arch/x86/include/uapi/asm/unistd.h).
const x32SyscallBit = 0x40000000

var native = newArch("amd64", "SCMP_ARCH_X86_64", unix.AUDIT_ARCH_X86_64, x32SyscallBit, tableAmd64[:])
