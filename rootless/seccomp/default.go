package seccomp

// Flags of clone(2) and unshare(2) (linux/sched.h) and ioctls the default
// profile checks.
const (
	cloneNewNS     = 0x00020000
	cloneNewCgroup = 0x02000000
	cloneNewUTS    = 0x04000000
	cloneNewIPC    = 0x08000000
	cloneNewUser   = 0x10000000
	cloneNewPID    = 0x20000000
	cloneNewNet    = 0x40000000
	// cloneNamespaces are the flags that create namespaces through clone(2).
	// (CLONE_NEWTIME shares its bit with the exit signal there: only unshare and
	// clone3 can ask for it.)
	cloneNamespaces = cloneNewNS | cloneNewCgroup | cloneNewUTS | cloneNewIPC | cloneNewUser | cloneNewPID | cloneNewNet

	afVsock   = 40     // AF_VSOCK: sockets to the hypervisor
	tiocsti   = 0x5412 // TIOCSTI: push a byte into a terminal's input queue
	tioclinux = 0x541c // TIOCLINUX: console selection and paste, same effect
	low32     = 0xffffffff
)

// Default is ccrun's built-in profile: docker's default (moby's
// profiles/seccomp/default.json) made stricter where sandboxing untrusted code
// needs it. An allow-list: anything not named returns EPERM, anything newer
// than the newest syscall named returns ENOSYS.
//
// Stricter than docker:
//
//   - no new user namespaces, even with CAP_SYS_ADMIN: clone and unshare with
//     CLONE_NEWUSER fail. A user namespace hands back a full capability set, and
//     with it every kernel interface gated on "capable in my own namespace",
//     which is where most recent container escapes began (CVE-2022-0185,
//     CVE-2023-32233, CVE-2024-1086);
//   - clone3 is ENOSYS for everyone: its flags sit in memory that seccomp cannot
//     read, so libc is made to fall back to clone, whose flags it can check;
//   - ioctl TIOCSTI and TIOCLINUX fail: they type into a terminal, the caller's if
//     one leaked in (CVE-2016-7545, CVE-2017-5226);
//   - io_uring_* fail: io_uring runs syscalls where seccomp never sees them, and
//     has been a steady source of kernel exploits (docker dropped it in 25.0);
//   - keyctl, add_key and request_key, and bpf, need CAP_SYS_ADMIN (docker denies
//     the first three outright and lets CAP_BPF alone open bpf);
//   - the checks on 32-bit arguments (socket's family, ioctl's request) look at the
//     low 32 bits only, as the kernel does, so garbage in the high half of the
//     register cannot sneak past them.
//
// Newer syscalls that are harmless (fchmodat2, cachestat, the futex2 calls,
// mseal, the *xattrat family, file_getattr/file_setattr) are allowed; new mount
// and namespace interfaces (open_tree_attr, statmount, listmount, listns) are
// treated as mount and setns are. pivot_root is never allowed: the container
// has no business leaving its root.
func Default() *Profile {
	errnoPerm := uint(eperm)
	errnoNosys := uint(enosys)
	rules := []Rule{
		{Names: allowed, Action: ActAllow},
		{Names: []string{"ptrace", "process_vm_readv", "process_vm_writev"}, Action: ActAllow,
			Includes: Filter{MinKernel: "4.8"}, Comment: "ptrace cannot bypass seccomp since Linux 4.8"},
		{Names: []string{"socket"}, Action: ActErrno, ErrnoRet: &errnoPerm,
			Args: []Arg{{Index: 0, Value: low32, ValueTwo: afVsock, Op: OpMaskedEqual}}},
		{Names: []string{"socket"}, Action: ActAllow},
		{Names: []string{"ioctl"}, Action: ActErrno, ErrnoRet: &errnoPerm,
			Args: []Arg{{Index: 1, Value: low32, ValueTwo: tiocsti, Op: OpMaskedEqual}}},
		{Names: []string{"ioctl"}, Action: ActErrno, ErrnoRet: &errnoPerm,
			Args: []Arg{{Index: 1, Value: low32, ValueTwo: tioclinux, Op: OpMaskedEqual}}},
		{Names: []string{"ioctl"}, Action: ActAllow},
		{Names: []string{"clone3"}, Action: ActErrno, ErrnoRet: &errnoNosys,
			Comment: "seccomp cannot read clone3's flags: make libc use clone"},
	}
	rules = append(rules, personality()...)
	rules = append(rules, archSpecific()...)
	rules = append(rules, namespaceRules(&errnoPerm)...)
	rules = append(rules, capabilityGated()...)
	return &Profile{
		DefaultAction:   ActErrno,
		DefaultErrnoRet: &errnoPerm,
		Architectures:   []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"},
		Syscalls:        rules,
	}
}

// personality: only the personas docker allows (Linux, with ADDR_NO_RANDOMIZE or
// UNAME26 off, and the query 0xffffffff).
func personality() []Rule {
	var rules []Rule
	for _, v := range []uint64{0x0, 0x8, 0x20000, 0x20008, 0xffffffff} {
		rules = append(rules, Rule{Names: []string{"personality"}, Action: ActAllow,
			Args: []Arg{{Index: 0, Value: v, Op: OpEqualTo}}})
	}
	return rules
}

func archSpecific() []Rule {
	return []Rule{
		{Names: []string{"arch_prctl"}, Action: ActAllow, Includes: Filter{Arches: []string{"amd64", "x32"}}},
		{Names: []string{"modify_ldt"}, Action: ActAllow, Includes: Filter{Arches: []string{"amd64", "x32", "x86"}}},
		{Names: []string{"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"},
			Action: ActAllow, Includes: Filter{Arches: []string{"arm", "arm64"}}},
	}
}

// namespaceRules: namespaces and mounts only with CAP_SYS_ADMIN, never a user
// namespace, and clone without namespace flags for everyone.
func namespaceRules(errnoPerm *uint) []Rule {
	admin := Filter{Caps: []string{"CAP_SYS_ADMIN"}}
	newUser := []Arg{{Index: 0, Value: cloneNewUser, ValueTwo: cloneNewUser, Op: OpMaskedEqual}}
	return []Rule{
		{Names: []string{"clone", "unshare"}, Action: ActErrno, ErrnoRet: errnoPerm, Args: newUser,
			Comment: "no user namespaces inside the container"},
		{Names: []string{"clone", "unshare"}, Action: ActAllow, Includes: admin},
		{Names: []string{"clone"}, Action: ActAllow, Excludes: admin,
			Args: []Arg{{Index: 0, Value: cloneNamespaces, ValueTwo: 0, Op: OpMaskedEqual}}},
		{Names: []string{
			"mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree", "open_tree_attr",
			"fsopen", "fsconfig", "fsmount", "fspick", "statmount", "listmount",
			"setns", "listns", "sethostname", "setdomainname",
			"add_key", "keyctl", "request_key", "bpf",
			"fanotify_init", "lookup_dcookie", "perf_event_open", "quotactl", "quotactl_fd", "syslog",
		}, Action: ActAllow, Includes: admin},
	}
}

// capabilityGated are docker's rules that open a syscall to the holder of the
// capability that the kernel checks for it anyway.
func capabilityGated() []Rule {
	gate := func(capName string, names ...string) Rule {
		return Rule{Names: names, Action: ActAllow, Includes: Filter{Caps: []string{capName}}}
	}
	return []Rule{
		gate("CAP_DAC_READ_SEARCH", "open_by_handle_at"),
		gate("CAP_SYS_BOOT", "reboot"),
		gate("CAP_SYS_CHROOT", "chroot"),
		gate("CAP_SYS_MODULE", "delete_module", "init_module", "finit_module"),
		gate("CAP_SYS_PACCT", "acct"),
		gate("CAP_SYS_PTRACE", "kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"),
		gate("CAP_SYS_RAWIO", "iopl", "ioperm"),
		gate("CAP_SYS_TIME", "settimeofday", "stime", "clock_settime", "clock_settime64"),
		gate("CAP_SYS_TTY_CONFIG", "vhangup"),
		gate("CAP_SYS_NICE", "get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
		gate("CAP_SYSLOG", "syslog"),
		gate("CAP_PERFMON", "perf_event_open"),
	}
}
