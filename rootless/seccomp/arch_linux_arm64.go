package seccomp

import "golang.org/x/sys/unix"

var native = newArch("arm64", "SCMP_ARCH_AARCH64", unix.AUDIT_ARCH_AARCH64, 0, tableArm64[:])
