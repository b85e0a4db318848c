package rootless

import (
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Every path inside the container's root is resolved by the kernel relative to a
// descriptor of that root, with RESOLVE_IN_ROOT (".." and absolute symlinks stop at
// the root, as if chrooted) and RESOLVE_NO_MAGICLINKS (no /proc/self/fd/N jumps out),
// never by joining strings: an image whose /dev is a symlink to /home/you would
// otherwise make the runtime mount a tmpfs over your home (see openat2(2); this class
// of bugs is CVE-2021-30465 in runc).
const inRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

func openInRoot(root int, p string, flags uint64) (int, error) {
	for {
		fd, err := unix.Openat2(root, p, &unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Resolve: inRoot})
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue // a concurrent rename; the kernel asks us to retry
		}
		return fd, err
	}
}

// dirInRoot opens directory p inside root as an O_PATH descriptor, creating it and
// its missing parents (mode 0755).
func dirInRoot(root int, p string) (int, error) {
	p = path.Clean("/" + p)
	fd, err := openInRoot(root, p, unix.O_PATH|unix.O_DIRECTORY)
	if !errors.Is(err, unix.ENOENT) || p == "/" {
		return fd, err
	}
	parent, err := dirInRoot(root, path.Dir(p))
	if err != nil {
		return -1, err
	}
	err = unix.Mkdirat(parent, path.Base(p), 0o755)
	unix.Close(parent)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, err
	}
	return openInRoot(root, p, unix.O_PATH|unix.O_DIRECTORY)
}

// fileInRoot opens file p inside root as an O_PATH descriptor, creating it empty if
// it is missing: a bind mount of a file needs a file to land on.
func fileInRoot(root int, p string) (int, error) {
	p = path.Clean("/" + p)
	fd, err := openInRoot(root, p, unix.O_PATH)
	if !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	parent, err := dirInRoot(root, path.Dir(p))
	if err != nil {
		return -1, err
	}
	f, err := unix.Openat(parent, path.Base(p), unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	unix.Close(parent)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, err
	}
	if err == nil {
		unix.Close(f)
	}
	return openInRoot(root, p, unix.O_PATH)
}

// attrs are the MOUNT_ATTR_* flags of m (mount_setattr(2)).
func attrs(m Mount) uint64 {
	var a uint64
	if m.ReadOnly {
		a |= unix.MOUNT_ATTR_RDONLY
	}
	if m.NoSuid {
		a |= unix.MOUNT_ATTR_NOSUID
	}
	if m.NoDev {
		a |= unix.MOUNT_ATTR_NODEV
	}
	if m.NoExec {
		a |= unix.MOUNT_ATTR_NOEXEC
	}
	return a
}

// target opens the mount point of m inside root.
func target(root int, m Mount) (int, error) {
	if m.File {
		return fileInRoot(root, m.Target)
	}
	return dirInRoot(root, m.Target)
}

// apply performs one entry of the mount plan onto root.
func (m Mount) apply(root int) error {
	t, err := target(root, m)
	if err != nil {
		return fmt.Errorf("open mount point: %w", err)
	}
	defer unix.Close(t)
	slog.Debug("mount", "type", m.Type, "source", m.Source, "target", m.Target,
		"options", strings.Join(m.Options, ","), "attrs", attrNames(attrs(m)))
	if m.Type == "bind" {
		return bindAt(unix.AT_FDCWD, m.Source, m.Recursive, attrs(m), t)
	}
	return mountAt(m.Type, m.Source, m.Options, attrs(m), t)
}

// mountAt creates a new filesystem with the mount API (fsopen(2), fsconfig(2),
// fsmount(2)) and attaches it on the descriptor target with move_mount(2). The
// filesystem belongs to the caller's namespaces: proc to its PID namespace, sysfs to
// its network namespace, mqueue to its IPC namespace.
func mountAt(fstype, source string, options []string, attr uint64, target int) error {
	fs, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen %s: %w", fstype, err)
	}
	defer unix.Close(fs)
	if source != "" {
		if err := unix.FsconfigSetString(fs, "source", source); err != nil {
			return fmt.Errorf("fsconfig source=%s: %w", source, err)
		}
	}
	for _, o := range options {
		k, v, hasValue := strings.Cut(o, "=")
		if hasValue {
			err = unix.FsconfigSetString(fs, k, v)
		} else {
			err = unix.FsconfigSetFlag(fs, k)
		}
		if err != nil {
			return fmt.Errorf("fsconfig %s: %w", o, err)
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return fmt.Errorf("create %s superblock: %w", fstype, err)
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, int(attr))
	if err != nil {
		return fmt.Errorf("fsmount: %w", err)
	}
	defer unix.Close(mnt)
	return moveTo(mnt, target)
}

// bindAt clones the mount at (dirfd, src) with open_tree(2), sets its attributes
// and attaches the copy on target.
func bindAt(dirfd int, src string, recursive bool, attr uint64, target int) error {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	setFlags := uint(unix.AT_EMPTY_PATH)
	if src == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	if recursive {
		flags |= unix.AT_RECURSIVE
		setFlags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(dirfd, src, flags)
	if err != nil {
		return fmt.Errorf("open_tree %s: %w", src, err)
	}
	defer unix.Close(tree)
	if attr != 0 {
		if err := unix.MountSetattr(tree, "", setFlags, &unix.MountAttr{Attr_set: attr}); err != nil {
			return fmt.Errorf("mount_setattr %s: %w", attrNames(attr), err)
		}
	}
	return moveTo(tree, target)
}

func moveTo(mnt, target int) error {
	if err := unix.MoveMount(mnt, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

func attrNames(a uint64) string {
	var s []string
	for _, n := range []struct {
		bit  uint64
		name string
	}{{unix.MOUNT_ATTR_RDONLY, "ro"}, {unix.MOUNT_ATTR_NOSUID, "nosuid"}, {unix.MOUNT_ATTR_NODEV, "nodev"}, {unix.MOUNT_ATTR_NOEXEC, "noexec"}} {
		if a&n.bit != 0 {
			s = append(s, n.name)
		}
	}
	return strings.Join(s, ",")
}
