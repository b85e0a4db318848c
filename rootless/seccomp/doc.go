// Package seccomp compiles seccomp filters in pure Go: docker's JSON profiles and
// ccrun's built-in default become classic BPF programs that the kernel runs on
// every system call the container makes.
//
// # The lesson
//
// A container shares the host's kernel, so every syscall is a door into it.
// seccomp(2) lets a process attach a small program, in classic BPF, that the
// kernel runs before each syscall with a struct seccomp_data: the syscall number,
// the architecture (AUDIT_ARCH_*), the instruction pointer and six arguments. The
// program returns what to do: allow, fail with an errno, kill, trap, log. Filters
// are inherited across fork and execve and can never be removed, only stacked.
//
// Classic BPF is a tiny machine: one accumulator, 32-bit loads from the data,
// compare-and-jump forward (at most 255 instructions ahead), return. That shapes
// the compiler here (bpf.go, compile.go):
//
//   - the architecture is checked first. On x86_64, a 32-bit program (int 0x80)
//     and an x32 program (syscall numbers with bit 30 set) enter the same kernel
//     with other syscall numbers: read is 0 for x86_64 and 3 for i386, and 3 is
//     close on x86_64. A filter that ignores the arch can be walked around.
//     ccrun has tables for the native ABI only, so anything else is killed;
//   - arguments are 64 bits, loaded as two halves. Checks on 32-bit arguments
//     (an ioctl request, a socket family) mask the high half away as the kernel
//     does, so that stray high bits cannot slip past them;
//   - syscall numbers above the newest the profile names get ENOSYS, not EPERM.
//     libc tries new syscalls first (clone3, fchmodat2, ...) and falls back only
//     on ENOSYS: EPERM from a profile older than the libc breaks programs;
//   - the decision is a binary search over ranges of syscall numbers with the
//     same outcome (about seventy ranges, so seven jumps deep), and the whole
//     default program is about two hundred instructions. Capabilities do not appear in it: profile rules
//     that depend on them are resolved when compiling, for the container's set.
//
// The default profile (Default, default.go) is docker's, with the changes listed
// there: no new user namespaces, clone3 as ENOSYS, no TIOCSTI, no io_uring, and
// the namespace, mount and keyring syscalls only with CAP_SYS_ADMIN.
//
// Install attaches a compiled program with seccomp(SECCOMP_SET_MODE_FILTER,
// SECCOMP_FILTER_FLAG_TSYNC). The kernel only lets a process do that when it has
// set no_new_privs, or holds CAP_SYS_ADMIN, so that a filter cannot trick a
// setuid program into misbehaving. With no_new_privs (the default) the init
// installs it last, right before execve; without, it must do so before it drops
// CAP_SYS_ADMIN, and the filter then also sees the init's last set-up calls.
//
// # Read
//
// seccomp(2), prctl(2) (PR_SET_NO_NEW_PRIVS), the kernel's
// Documentation/userspace-api/seccomp_filter.rst and
// Documentation/networking/filter.rst, moby's profiles/seccomp/default.json,
// libseccomp's seccomp_rule_add(3) for the comparison operators.
//
// # See it
//
//	ccrun run --rm IMAGE grep Seccomp /proc/self/status   # Seccomp: 2 (filter)
//	ccrun run --rm IMAGE unshare -U true                   # Operation not permitted
//	ccrun run --rm --security-opt seccomp=unconfined IMAGE grep Seccomp /proc/self/status
package seccomp
