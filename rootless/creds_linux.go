package rootless

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// lastCap is the highest capability number this code knows (CAP_CHECKPOINT_RESTORE).
const lastCap = 40

// setCredentials becomes the container's user with exactly the capabilities of the
// spec. The order is forced by the kernel (capabilities(7), credentials(7)):
//
//  1. drop from the bounding set what the container must never regain — this needs
//     CAP_SETPCAP, so it happens while we are still fully privileged;
//  2. setgroups, setresgid, setresuid — with PR_SET_KEEPCAPS so that becoming a
//     non-zero uid does not wipe the permitted set before step 3;
//  3. capset the effective, permitted and inheritable sets; a non-root user gets
//     none, as with Docker;
//  4. clear the ambient set, so no capability survives execve by inheritance.
func setCredentials(id *Identity, c Caps) error {
	for cap := 0; cap <= lastCap; cap++ {
		if c.Bounding&(1<<cap) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(cap), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("drop capability %d from the bounding set: %w", cap, err)
		}
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set keepcaps: %w", err)
	}
	if err := setGroups(id); err != nil {
		return err
	}
	slog.Debug("setresgid/setresuid", "uid", id.UID, "gid", id.GID, "groups", id.Groups)
	// Raw system calls change only this thread, the one that will execve, which is
	// all that survives execve. (The syscall package would stop every thread of the
	// Go runtime to change them all; they run no code of the container's.)
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(id.GID), uintptr(id.GID), uintptr(id.GID)); e != 0 {
		return idError("setresgid", id.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(id.UID), uintptr(id.UID), uintptr(id.UID)); e != 0 {
		return idError("setresuid", id.UID, e)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("clear keepcaps: %w", err)
	}
	if id.UID != 0 {
		c.Effective, c.Permitted, c.Inheritable = 0, 0, 0
	}
	if err := capset(c); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	return nil
}

// setGroups sets the supplementary groups. In a user namespace whose gid map was
// written without newgidmap, setgroups(2) is denied for good (user_namespaces(7),
// /proc/PID/setgroups); the process then keeps an empty list, which is what it has.
func setGroups(id *Identity) error {
	groups := id.Groups
	var ptr unsafe.Pointer
	if len(groups) > 0 {
		ptr = unsafe.Pointer(&groups[0])
	}
	// setgroups(2) takes gid_t[], 32-bit ids, as Identity holds them; per thread,
	// as setresuid above.
	_, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(ptr), 0)
	if e == 0 {
		return nil
	}
	var err error = e
	if b, rerr := os.ReadFile("/proc/self/setgroups"); rerr == nil && strings.TrimSpace(string(b)) == "deny" {
		if len(groups) <= 1 {
			return nil
		}
		return fmt.Errorf("set supplementary groups %v: setgroups is denied in this user namespace (no subordinate gids)", id.Groups)
	}
	return fmt.Errorf("set supplementary groups %v: %w", id.Groups, err)
}

func idError(call string, id uint32, err error) error {
	err = fmt.Errorf("%s %d: %w", call, id, err)
	if errors.Is(err, unix.EINVAL) {
		return &ExecError{Msg: err.Error() + ": the id is not mapped in the container's user namespace", Code: 125,
			Hint: "give your user subordinate ids in /etc/subuid and /etc/subgid (usermod --add-subuids/--add-subgids)"}
	}
	return err
}

func capset(c Caps) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(c.Effective), Permitted: uint32(c.Permitted), Inheritable: uint32(c.Inheritable)},
		{Effective: uint32(c.Effective >> 32), Permitted: uint32(c.Permitted >> 32), Inheritable: uint32(c.Inheritable >> 32)},
	}
	slog.Debug("capset", "effective", fmt.Sprintf("%#x", c.Effective), "permitted", fmt.Sprintf("%#x", c.Permitted),
		"inheritable", fmt.Sprintf("%#x", c.Inheritable), "bounding", fmt.Sprintf("%#x", c.Bounding))
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("set capabilities: %w", err)
	}
	return nil
}
