package rootless

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// InitMain is the init stage (P2), run when argv[0] is InitName. It never returns:
// it execs the command or reports why it could not and exits.
//
// It runs on one locked OS thread from start to execve: capabilities, the
// no_new_privs bit, the parent-death signal and the seccomp filter are all
// per-thread attributes, and they must be those of the thread that calls execve.
func InitMain() {
	runtime.LockOSThread()
	if os.Getenv("CCRUN_DEBUG") == "1" {
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("stage", InitName))
	}
	early := entrySession()
	if early == nil {
		early = unshareEarly()
	}
	sync := os.NewFile(syncFD, "sync")
	m, _, err := recv(sync)
	if err != nil || m.Type != msgSpec || m.Spec == nil {
		fmt.Fprintf(os.Stderr, "ccrun: init: no spec received: %v\n", err)
		os.Exit(125)
	}
	err = early
	if err == nil && m.Spec.UserNS {
		err = checkMapped()
	}
	if err == nil {
		err = initContainer(m.Spec, sync)
	}
	code := 125
	var ee *ExecError
	if errors.As(err, &ee) {
		code = ee.Code
	}
	hint := ""
	var h *HintError
	switch {
	case errors.As(err, &h):
		hint = h.Hint
	case ee != nil:
		hint = ee.Hint
	}
	if sendErr := send(sync, message{Type: msgError, Error: err.Error(), Hint: hint, Code: code}); sendErr != nil {
		fmt.Fprintf(os.Stderr, "ccrun: %v\n", err)
	}
	os.Exit(code)
}

// entrySession starts the init's own session when ccrun's entry point forked it
// (see entry_linux.go), as Go's fork does for an init it clones
// (SysProcAttr.Setsid): the container never shares the caller's controlling
// terminal, so it cannot TIOCSTI into the caller's shell, and with -t it can
// make its pty its controlling terminal. An error is reported once the spec
// has come (nothing of the container has run yet).
func entrySession() error {
	if len(os.Args) < 2 || os.Args[1] != userNSArg {
		return nil
	}
	if !entryAvailable() {
		return errors.New("init: started for ccrun's entry point, which this ccrun was built without")
	}
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("start a session: %w", err)
	}
	return nil
}

// earlyNamespaces are the namespaces the init makes itself before it has its
// spec (see cloneFlags): every container gets new ones, whatever the spec says.
const earlyNamespaces = unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS

// unshareEarly makes the init's network, IPC and UTS namespaces, while P0 is
// still mapping its ids and preparing the root. The init needs no uid for that,
// only CAP_SYS_ADMIN in its user namespace, which it holds from the clone on,
// even unmapped (see CloneInit). The namespaces belong to the calling thread,
// the one locked for the whole stage, which execs the command. An error is
// reported once the spec has come, like any other (nothing of the container
// has run yet).
func unshareEarly() error {
	slog.Debug("unshare", "flags", "CLONE_NEWNET|CLONE_NEWIPC|CLONE_NEWUTS")
	if err := unix.Unshare(earlyNamespaces); err != nil {
		return fmt.Errorf("create network, IPC and UTS namespaces: %w", err)
	}
	return nil
}

// checkMapped makes sure that a stage that made its own user namespace is uid
// 0 there: it gets its work only once the maps are written (see CloneInit).
func checkMapped() error {
	if os.Geteuid() != 0 || os.Getegid() != 0 {
		return fmt.Errorf("user namespace: uid %d, gid %d after mapping, want 0", os.Geteuid(), os.Getegid())
	}
	return nil
}

// initContainer builds the container around this process and execs the command.
// Each step is one kernel concept; their order matters and is explained inline.
func initContainer(s *Spec, sync *os.File) error {
	unix.Umask(0o022)
	// On cgroup v1 the init moves itself into the container's cgroups: writing
	// 0 to a "tasks" file moves the writing thread (cgroup-v1/cgroups.rst).
	// Moving a process by its pid takes a global lock (cgroup_threadgroup_rwsem)
	// whose writer waits for an RCU grace period, 5 to 20 ms a run on these
	// hosts; the calling thread's own move does not need it (Linux:
	// cgroup_procs_write_start), 0.1 ms. This is the main thread, the one that
	// will execve and so the only one the command keeps; Go's other threads,
	// still outside, end at the execve.
	if err := enterCgroups(s.CgroupTasks); err != nil {
		return err
	}
	// A cgroup namespace whose root is the cgroup the init is in now
	// (cgroup_namespaces(7)): made here rather than at clone because where the init
	// could not be started directly in its cgroup it was moved there after. The
	// namespace is the calling thread's, the one that will execve.
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("create cgroup namespace: %w", err)
	}
	// The host's mounts were copied into our new mount namespace; make them all
	// private so nothing we mount propagates back (mount_namespaces(7)).
	slog.Debug("mount", "target", "/", "propagation", "rprivate")
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	root, err := mountRoot(s.Root)
	if err != nil {
		return err
	}
	devNull, err := mountAll(root, s)
	if err != nil {
		return err
	}
	if err := maskPaths(root, devNull, s.MaskedPaths); err != nil {
		return err
	}
	if err := readonlyPaths(root, s.ReadonlyPaths); err != nil {
		return err
	}
	if err := makeWorkdir(root, s.Process.Cwd); err != nil {
		return err
	}
	var pty int = -1
	if s.Process.Terminal {
		if pty, err = newTerminal(root, s.Process, sync); err != nil {
			return err
		}
	}
	if s.Root.ReadOnly {
		slog.Debug("mount_setattr", "target", "/", "attrs", "ro")
		if err := unix.MountSetattr(root, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
			return fmt.Errorf("make the root read-only: %w", err)
		}
	}
	var reaperExe *os.File
	if s.Init {
		if reaperExe, err = sealedReaper(); err != nil {
			return err
		}
	}
	if err := pivotRoot(root); err != nil {
		return err
	}
	// From here on "/" is the container's root: no path can lead back to the host.
	// Every descriptor but stdio is closed at execve, so that none of the host's
	// directories can leak in as an fd or a cwd (CVE-2024-21626). (Marked rather than
	// closed now: the Go runtime owns some of them until then.)
	unix.Close(root)
	unix.Close(devNull)
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("mark inherited descriptors close-on-exec: %w", err)
	}
	if err := setHostname(s.Hostname); err != nil {
		return err
	}
	if err := loopbackUp(); err != nil {
		return err
	}
	return execProcess(s, sync, pty, reaperExe)
}

// mountRoot mounts the container's root filesystem and returns a descriptor of it.
func mountRoot(r Root) (int, error) {
	dir := r.Dir
	switch {
	case r.Overlay != nil:
		dir = r.Overlay.Target
		if err := mountOverlay(r.Overlay); err != nil {
			return -1, err
		}
	case dir != "":
		// pivot_root needs the new root to be a mount point: bind it onto itself.
		slog.Debug("mount", "type", "bind", "source", dir, "target", dir, "flags", "MS_BIND|MS_REC")
		if err := unix.Mount(dir, dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return -1, fmt.Errorf("bind %s onto itself: %w", dir, err)
		}
	default:
		return -1, errors.New("spec has no root filesystem")
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open root %s: %w", dir, err)
	}
	// Device nodes of the image (or of the directory) do not work: the only
	// devices are the ones the init puts in /dev, mounted after this. As root on a
	// host without a device cgroup, an image's /dev/sda would otherwise be the disk.
	slog.Debug("mount_setattr", "target", "/", "attrs", "nodev", "recursive", true)
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NODEV}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("make the root nodev: %w", err)
	}
	return fd, nil
}

// mountOverlay mounts the container's copy-on-write root. Lower directories are
// given relative to o.Chdir to keep the options within the one page the mount(2)
// data may take.
func mountOverlay(o *OverlayRoot) error {
	if o.Chown != nil {
		if err := chownLike(o.Chown.Path, o.Chown.Like); err != nil {
			return fmt.Errorf("mount overlay: %w", err)
		}
	}
	if o.Chdir != "" {
		if err := unix.Chdir(o.Chdir); err != nil {
			return fmt.Errorf("mount overlay: chdir %s: %w", o.Chdir, err)
		}
	}
	slog.Debug("mount", "type", "overlay", "target", o.Target, "options", o.Options, "cwd", o.Chdir)
	err := unix.Mount("overlay", o.Target, "overlay", 0, o.Options)
	if err != nil {
		err = fmt.Errorf("mount overlay on %s: %w", o.Target, err)
		if errors.Is(err, unix.EINVAL) && strings.Contains(o.Options, "userxattr") {
			return &HintError{err, "overlayfs in a user namespace needs Linux 5.11 or later"}
		}
		return err
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("mount overlay: chdir /: %w", err)
	}
	return nil
}

// mountAll applies the spec's mount plan and fills /dev. It returns a verified
// descriptor of the container's /dev/null, used to mask files.
func mountAll(root int, s *Spec) (int, error) {
	devNull := -1
	for _, m := range s.Mounts {
		err := m.apply(root)
		if err != nil && m.Type == "sysfs" && m.Optional {
			slog.Debug("sysfs refused, binding the host's /sys read-only", "err", err)
			err = Mount{Type: "bind", Source: "/sys", Target: m.Target, Recursive: true,
				ReadOnly: true, NoSuid: true, NoDev: true, NoExec: true}.apply(root)
		}
		if err != nil {
			err = fmt.Errorf("mount %s on %s: %w", m.Type, m.Target, err)
			if errors.Is(err, unix.EACCES) {
				return -1, &HintError{err, "the root filesystem must let container root (you, when rootless) create " + m.Target + ": create it, or own the directory"}
			}
			return -1, err
		}
		if m.Target == "/dev" {
			if devNull, err = makeDev(root); err != nil {
				return -1, err
			}
		}
	}
	if devNull < 0 {
		return -1, errors.New("mount plan has no /dev")
	}
	return devNull, nil
}

func makeDev(root int) (int, error) {
	dev, err := openInRoot(root, "/dev", unix.O_DIRECTORY|unix.O_RDONLY)
	if err != nil {
		return -1, fmt.Errorf("open /dev: %w", err)
	}
	defer unix.Close(dev)
	if err := populateDev(dev); err != nil {
		return -1, err
	}
	return openDevNull(dev)
}

// makeWorkdir creates the working directory inside the root if it is missing.
func makeWorkdir(root int, cwd string) error {
	if cwd == "" || cwd == "/" {
		return nil
	}
	fd, err := dirInRoot(root, cwd)
	if err != nil {
		return fmt.Errorf("create working directory %s: %w", cwd, err)
	}
	return unix.Close(fd)
}

// pivotRoot makes root the new "/" and detaches the old one, so the host's file
// system is no longer reachable by any path. Unlike chroot(2), which only changes
// where path lookups start and which a root process escapes with a second chroot and
// "cd ..", pivot_root(2) changes the mount namespace's root itself.
// pivot_root(".", ".") stacks the old root on top of the new one, so that the next
// unmount of "." removes the old root without a directory to put it in.
func pivotRoot(root int) error {
	if err := unix.Fchdir(root); err != nil {
		return fmt.Errorf("chdir to the new root: %w", err)
	}
	slog.Debug("pivot_root", "new_root", ".", "put_old", ".")
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	slog.Debug("umount2", "target", "old root", "flags", "MNT_DETACH")
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir to the new root: %w", err)
	}
	return nil
}

func setHostname(name string) error {
	slog.Debug("sethostname", "name", name)
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("set hostname %q: %w", name, err)
	}
	return nil
}

// loopbackUp brings up lo, the only interface of the new network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo: get flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	slog.Debug("ioctl SIOCSIFFLAGS", "interface", "lo", "flags", "IFF_UP")
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	return nil
}

// chownLike gives path (not following a symbolic link) the owner and group of like.
func chownLike(path, like string) error {
	var st unix.Stat_t
	if err := unix.Stat(like, &st); err != nil {
		return fmt.Errorf("stat %s: %w", like, err)
	}
	slog.Debug("lchown", "path", path, "uid", st.Uid, "gid", st.Gid)
	if err := unix.Lchown(path, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

// enterCgroups moves the calling thread, which must be the main thread (the
// init runs from a package init function, where Go keeps the main goroutine
// on it), into the cgroup of each v1 "tasks" file.
func enterCgroups(tasks []string) error {
	if len(tasks) > 0 && unix.Gettid() != unix.Getpid() {
		return errors.New("enter cgroups: the init does not run on its main thread")
	}
	for _, t := range tasks {
		fd, err := unix.Open(t, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			_, err = unix.Write(fd, []byte("0"))
			unix.Close(fd)
		}
		if err != nil {
			return fmt.Errorf("enter cgroup %s: %w", filepath.Dir(t), err)
		}
	}
	return nil
}
