package rootless

import (
	"errors"
	"fmt"
	"log/slog"

	"golang.org/x/sys/unix"
)

// populateDev fills the container's fresh /dev tmpfs (dev is a descriptor of it).
// Real root creates the device nodes with mknod(2). In a user namespace the kernel
// refuses mknod (a device node would bypass every permission check on the host's
// devices), so each node becomes an empty file with the host's node bind-mounted on
// it; the host's permissions still apply to it.
func populateDev(dev int) error {
	for _, d := range Devices {
		err := unix.Mknodat(dev, d.Name, unix.S_IFCHR|0o666, int(unix.Mkdev(d.Major, d.Minor)))
		if err == nil {
			slog.Debug("mknod", "path", "/dev/"+d.Name, "major", d.Major, "minor", d.Minor)
			continue
		}
		if !errors.Is(err, unix.EPERM) {
			return fmt.Errorf("mknod /dev/%s: %w", d.Name, err)
		}
		if err := bindDevice(dev, d.Name); err != nil {
			return fmt.Errorf("bind /dev/%s: %w", d.Name, err)
		}
	}
	for _, l := range DevLinks {
		if err := unix.Symlinkat(l[1], dev, l[0]); err != nil {
			return fmt.Errorf("symlink /dev/%s -> %s: %w", l[0], l[1], err)
		}
	}
	return nil
}

func bindDevice(dev int, name string) error {
	f, err := unix.Openat(dev, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o666)
	if err != nil {
		return err
	}
	unix.Close(f)
	t, err := unix.Openat(dev, name, unix.O_PATH|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer unix.Close(t)
	slog.Debug("mount", "type", "bind", "source", "/dev/"+name, "target", "/dev/"+name)
	return bindAt(unix.AT_FDCWD, "/dev/"+name, false, 0, t)
}

// openDevNull opens the container's /dev/null and checks that it really is the
// character device 1:3: masking a secret with a "null" that is in fact a file of the
// image's would show the secret (or let the container write through the mask).
func openDevNull(dev int) (int, error) {
	fd, err := unix.Openat(dev, "null", unix.O_PATH|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return -1, fmt.Errorf("open /dev/null: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("stat /dev/null: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		unix.Close(fd)
		return -1, errors.New("/dev/null is not the character device 1:3")
	}
	return fd, nil
}

// maskPaths hides each path: files behind /dev/null, directories behind an empty
// read-only tmpfs. Paths the kernel does not have are skipped.
func maskPaths(root, devNull int, paths []string) error {
	for _, p := range paths {
		t, err := openInRoot(root, p, unix.O_PATH)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
		var st unix.Stat_t
		err = unix.Fstat(t, &st)
		if err == nil {
			slog.Debug("mask", "path", p)
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				err = mountAt("tmpfs", "tmpfs", []string{"mode=0", "nr_inodes=1", "size=4k"}, unix.MOUNT_ATTR_RDONLY, t)
			} else {
				err = bindAt(devNull, "", false, 0, t)
			}
		}
		unix.Close(t)
		if err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
	}
	return nil
}

// readonlyPaths binds each path read-only onto itself.
func readonlyPaths(root int, paths []string) error {
	for _, p := range paths {
		t, err := openInRoot(root, p, unix.O_PATH)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("make %s read-only: %w", p, err)
		}
		slog.Debug("mount", "type", "bind", "source", p, "target", p, "attrs", "ro")
		err = bindAt(t, "", true, unix.MOUNT_ATTR_RDONLY, t)
		unix.Close(t)
		if err != nil {
			return fmt.Errorf("make %s read-only: %w", p, err)
		}
	}
	return nil
}
