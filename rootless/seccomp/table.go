package seccomp

import (
	"fmt"
	"runtime"
	"sync"
)

// syscallEntry names one syscall number of an ABI.
type syscallEntry struct {
	name string
	nr   int
}

// arch is an ABI ccrun can filter: the AUDIT_ARCH_* value the kernel puts in
// seccomp_data.arch for it, and its syscall table.
//
// The tables in table_linux_*.go are generated from golang.org/x/sys/unix, one
// line per SYS_* constant, lower-cased:
//
//	grep -o 'SYS_[A-Z0-9_]*' $(go env GOMODCACHE)/golang.org/x/sys@VERSION/unix/zsysnum_linux_amd64.go
//
// Tables are plain arrays, not maps, so that importing this package costs the
// init stage nothing at start-up; Compile builds a map when it first needs one.
type arch struct {
	goarch string // runtime.GOARCH, as docker's "includes": {"arches": [...]} names it
	scmp   string // libseccomp's name, as in a profile's "architectures"
	audit  uint32 // AUDIT_ARCH_* (linux/audit.h)
	// compatBit is set in seccomp_data.nr for syscalls of a second ABI that
	// shares the arch value: x32 on x86_64 (__X32_SYSCALL_BIT). Zero when none.
	compatBit uint32
	table     []syscallEntry
	numbers   func() map[string]int
}

func newArch(goarch, scmp string, audit, compatBit uint32, table []syscallEntry) *arch {
	a := &arch{goarch: goarch, scmp: scmp, audit: audit, compatBit: compatBit, table: table}
	a.numbers = sync.OnceValue(func() map[string]int {
		m := make(map[string]int, len(table))
		for _, e := range table {
			m[e.name] = e.nr
		}
		return m
	})
	return a
}

// lookup returns the number of a syscall of this ABI, or false when the ABI has
// no such syscall (a profile names syscalls of every architecture at once).
func (a *arch) lookup(name string) (int, bool) {
	nr, ok := a.numbers()[name]
	return nr, ok
}

// name returns the syscall called nr, for error messages and tests.
func (a *arch) name(nr int) string {
	for _, e := range a.table {
		if e.nr == nr {
			return e.name
		}
	}
	return fmt.Sprintf("syscall %d", nr)
}

// nativeArch returns the ABI ccrun itself runs as: the only one it filters.
func nativeArch() (*arch, error) {
	if native == nil {
		return nil, fmt.Errorf("seccomp filters for %s/%s are not supported: run with --security-opt seccomp=unconfined", runtime.GOOS, runtime.GOARCH)
	}
	return native, nil
}

// archNames are libseccomp's architecture names, accepted in "architectures"
// and "archMap" so that docker's profiles load.
var archNames = []string{
	"SCMP_ARCH_NATIVE", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",
	"SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
	"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
	"SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE",
	"SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64",
	"SCMP_ARCH_RISCV64", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
}
