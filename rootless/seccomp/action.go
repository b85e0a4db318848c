package seccomp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The return values of a seccomp filter (linux/seccomp.h). The kernel acts on the
// top 16 bits; the low 16 carry the errno for RET_ERRNO.
const (
	retKillProcess uint32 = 0x80000000
	retKillThread  uint32 = 0x00000000
	retTrap        uint32 = 0x00030000
	retErrno       uint32 = 0x00050000
	retUserNotif   uint32 = 0x7fc00000
	retTrace       uint32 = 0x7ff00000
	retLog         uint32 = 0x7ffc0000
	retAllow       uint32 = 0x7fff0000
	retData        uint32 = 0x0000ffff
)

// Errnos used by the filters, spelled out so the pure code builds everywhere.
const (
	eperm  = 1  // EPERM: what docker's default action returns
	enosys = 38 // ENOSYS: "this kernel has no such call", which libc falls back from
)

// ret is the filter's return value for an action. errno applies to ERRNO and
// TRACE; when the profile gives none, def is used.
func (a Action) ret(errno *uint, def uint) (uint32, error) {
	e := def
	if errno != nil {
		e = *errno
	}
	switch a {
	case ActAllow:
		return retAllow, nil
	case ActErrno:
		if e == 0 || e > 4095 {
			return 0, fmt.Errorf("errno %d out of range 1-4095", e)
		}
		return retErrno | uint32(e), nil
	case ActKill, ActKillThread:
		return retKillThread, nil
	case ActKillProcess:
		return retKillProcess, nil
	case ActTrap:
		return retTrap, nil
	case ActTrace:
		return retTrace | uint32(e)&retData, nil
	case ActLog:
		return retLog, nil
	case ActNotify:
		return 0, errors.New("SCMP_ACT_NOTIFY needs a seccomp agent listening, and ccrun has none")
	}
	return 0, fmt.Errorf("unknown action %q: use SCMP_ACT_ALLOW, _ERRNO, _KILL_PROCESS, _KILL_THREAD, _TRAP, _TRACE or _LOG", a)
}

// permissive reports whether a default action lets unknown syscalls run, in
// which case syscalls newer than the profile run too (see Compile).
func permissive(ret uint32) bool { return ret == retAllow || ret == retLog }

// kernelVersion is major<<16 | minor, comparable with <.
type kernelVersion uint32

// parseKernel reads "6.18" or "6.18.3-amd64" (only major and minor count).
func parseKernel(s string) (kernelVersion, error) {
	major, rest, _ := strings.Cut(s, ".")
	minor := strings.FieldsFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if len(minor) == 0 {
		return 0, fmt.Errorf("kernel version %q: want MAJOR.MINOR such as 4.8", s)
	}
	ma, err1 := strconv.ParseUint(major, 10, 16)
	mi, err2 := strconv.ParseUint(minor[0], 10, 16)
	if err := errors.Join(err1, err2); err != nil || !strings.HasPrefix(rest, minor[0]) {
		return 0, fmt.Errorf("kernel version %q: want MAJOR.MINOR such as 4.8", s)
	}
	return kernelVersion(ma<<16 | mi), nil
}
