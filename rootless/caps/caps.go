package caps

import (
	"fmt"
	"math/bits"
	"strings"
)

// Last is the highest capability this package knows, CAP_CHECKPOINT_RESTORE
// (Linux 5.9). A kernel with more reports them in /proc/sys/kernel/cap_last_cap;
// they are never granted, and the init drops them from the bounding set.
const Last = 40

// names are the capability numbers of capabilities(7), without the CAP_ prefix.
var names = [Last + 1]string{
	0:  "CHOWN",
	1:  "DAC_OVERRIDE",
	2:  "DAC_READ_SEARCH",
	3:  "FOWNER",
	4:  "FSETID",
	5:  "KILL",
	6:  "SETGID",
	7:  "SETUID",
	8:  "SETPCAP",
	9:  "LINUX_IMMUTABLE",
	10: "NET_BIND_SERVICE",
	11: "NET_BROADCAST",
	12: "NET_ADMIN",
	13: "NET_RAW",
	14: "IPC_LOCK",
	15: "IPC_OWNER",
	16: "SYS_MODULE",
	17: "SYS_RAWIO",
	18: "SYS_CHROOT",
	19: "SYS_PTRACE",
	20: "SYS_PACCT",
	21: "SYS_ADMIN",
	22: "SYS_BOOT",
	23: "SYS_NICE",
	24: "SYS_RESOURCE",
	25: "SYS_TIME",
	26: "SYS_TTY_CONFIG",
	27: "MKNOD",
	28: "LEASE",
	29: "AUDIT_WRITE",
	30: "AUDIT_CONTROL",
	31: "SETFCAP",
	32: "MAC_OVERRIDE",
	33: "MAC_ADMIN",
	34: "SYSLOG",
	35: "WAKE_ALARM",
	36: "BLOCK_SUSPEND",
	37: "AUDIT_READ",
	38: "PERFMON",
	39: "BPF",
	40: "CHECKPOINT_RESTORE",
}

// The capabilities the rest of ccrun refers to by number.
const (
	SysChroot = 18
	SysAdmin  = 21
)

// All is the mask of every capability this package knows.
const All uint64 = 1<<(Last+1) - 1

// Default is podman's default set (see the package documentation), spelled as
// a constant so that importing the package costs nothing at start-up.
const Default uint64 = 1<<0 | // CHOWN
	1<<1 | // DAC_OVERRIDE
	1<<3 | // FOWNER
	1<<4 | // FSETID
	1<<5 | // KILL
	1<<6 | // SETGID
	1<<7 | // SETUID
	1<<8 | // SETPCAP
	1<<10 | // NET_BIND_SERVICE
	1<<18 | // SYS_CHROOT
	1<<31 // SETFCAP

// Parse returns the number of a capability named as in capabilities(7), with or
// without the CAP_ prefix, in any case: "CAP_NET_ADMIN", "net_admin" and
// "Net_Admin" are all 12. "ALL" is not a capability: see ParseList.
func Parse(name string) (int, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	n = strings.TrimPrefix(n, "CAP_")
	for i, known := range names {
		if n == known {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown capability %q: capabilities(7) lists the names (CAP_NET_ADMIN or net_admin)", name)
}

// Name returns "CAP_" and the name of capability c, or "CAP_<n>" for one this
// package does not know.
func Name(c int) string {
	if c < 0 || c > Last {
		return fmt.Sprintf("CAP_%d", c)
	}
	return "CAP_" + names[c]
}

// ParseList turns flag values into a mask. Each value may hold several names
// separated by commas ("NET_ADMIN,SYS_TIME"), as docker accepts. all reports
// whether "ALL" was among them; it adds nothing to the mask.
func ParseList(values []string) (m uint64, all bool, err error) {
	for _, v := range values {
		for _, n := range strings.Split(v, ",") {
			switch {
			case strings.TrimSpace(n) == "":
				continue
			case strings.EqualFold(strings.TrimSpace(n), "ALL"):
				all = true
				continue
			}
			c, err := Parse(n)
			if err != nil {
				return 0, false, err
			}
			m |= 1 << c
		}
	}
	return m, all, nil
}

// Names lists the capabilities in m by number, as "CAP_..." names.
func Names(m uint64) []string {
	out := make([]string, 0, bits.OnesCount64(m))
	for c := 0; c < 64; c++ {
		if m&(1<<c) != 0 {
			out = append(out, Name(c))
		}
	}
	return out
}

// Format shows a mask the way people read it in logs and errors:
// "CAP_CHOWN,CAP_KILL", "none", or "ALL" for every known capability.
func Format(m uint64) string {
	switch m {
	case 0:
		return "none"
	case All:
		return "ALL"
	}
	return strings.Join(Names(m), ",")
}

// Has reports whether capability c is in m.
func Has(m uint64, c int) bool { return c >= 0 && c < 64 && m&(1<<c) != 0 }
