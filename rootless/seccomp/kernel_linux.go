package seccomp

import (
	"sync"

	"golang.org/x/sys/unix"
)

// runningKernel is the kernel's version from uname(2), or 0 when unreadable (then
// no "minKernel" rule applies: the filter errs on the strict side).
var runningKernel = sync.OnceValue(func() kernelVersion {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return 0
	}
	v, err := parseKernel(unix.ByteSliceToString(u.Release[:]))
	if err != nil {
		return 0
	}
	return v
})
