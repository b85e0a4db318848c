package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// containerDirs is ccrun's own directory of containers, <graph root>/ccrun-containers:
// one subdirectory per container, named by its id, holding
//
//	container.json   its Record, written once
//	upper/ work/     the overlay's writable directory and the kernel's scratch one
//
// The init mounts the overlay on the directory itself, in its own mount
// namespace; on the host the directory stays as it is. Every directory made
// here is one more to delete when the container goes: on ext4 each costs an
// inode and a block, and mounted with -o discard, a discard the rmdir(2) waits
// for.
//
// Two kinds of flock(2) keep it consistent without a daemon:
//
//   - each container's supervisor holds an exclusive lock on the container's
//     directory for as long as it runs. The kernel drops it when the process dies,
//     however it dies, so a directory whose lock can be taken has no live owner;
//   - <graph root>/ccrun-containers.lock is taken shared by a run while it creates
//     a container (not while the container runs), and exclusively by rmi and image
//     prune while they check which images containers use and delete images. So a
//     run never creates a container of an image that rmi is deleting.
type containerDirs struct {
	root string
	// removeDenied deletes a directory this process was refused (Store.RemoveWith).
	removeDenied func(dir string) error
}

func (d containerDirs) dir(id string) string { return filepath.Join(d.root, id) }

// lockPath is the directory-wide lock, beside the directory rather than in it.
func (d containerDirs) lockPath() string { return d.root + ".lock" }

// lock takes the directory-wide lock, shared (unix.LOCK_SH) or exclusive
// (unix.LOCK_EX), waiting for it; unlock drops it.
func (d containerDirs) lock(how int) (unlock func() error, err error) {
	f, err := OpenLock(d.lockPath())
	if err != nil {
		return nil, fmt.Errorf("lock containers: %w", err)
	}
	if err := Flock(f, how); err != nil {
		return nil, errors.Join(fmt.Errorf("lock containers: %w", err), f.Close())
	}
	return f.Close, nil
}

// made is a container directory create made, or took over.
type made struct {
	// lock is the directory's liveness lock, held.
	lock *os.File
	// chownUpper: upper/ still needs root's owner (see fill).
	chownUpper bool
	// park: Release may keep the directory as a spare (see spares_linux.go),
	// there being fewer than maxSpares.
	park bool
}

// create makes container rec.ID's directory and returns it locked (the liveness
// lock), taking a spare over when there is one (see spares_linux.go). upper/
// gets the mode and owner of root, the image's root directory, as the
// overlay's root directory shows the upper directory's; chownUpper says that
// the owner could not be given here (see fill). The record is written last: a
// directory without one is a creation in progress or one that crashed.
// Nothing is synced: a container does not outlive a crash of the machine in a
// state worth keeping, and an fsync costs more than the whole run.
// Must be called with the directory-wide lock held (shared).
func (d containerDirs) create(rec Record, root fs.FileInfo) (*made, error) {
	if !isHex(rec.ID) {
		return nil, fmt.Errorf("create container %q: the id must be hexadecimal", rec.ID)
	}
	dir := d.dir(rec.ID)
	spares := d.spares()
	if lock := d.takeSpare(rec.ID, spares); lock != nil {
		chownUpper, err := reuse(dir, rec, root)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("create container %.12s: %w", rec.ID, err), lock.Close(), d.removeTree(dir))
		}
		return &made{lock: lock, chownUpper: chownUpper, park: true}, nil
	}
	err := os.Mkdir(dir, 0o700)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(d.root, 0o700); err == nil {
			err = os.Mkdir(dir, 0o700)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create container %.12s: %w", rec.ID, err)
	}
	m := &made{park: len(spares) < maxSpares}
	m.lock, err = lockNew(dir)
	if err == nil {
		if m.chownUpper, err = fill(dir, rec, root); err != nil {
			err = errors.Join(err, m.lock.Close())
		}
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("create container %.12s: %w", rec.ID, err), d.removeTree(dir))
	}
	return m, nil
}

// lockNew takes the liveness lock of a directory just made, which nobody else
// can hold yet.
func lockNew(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	ok, err := TryLock(f)
	if err == nil && !ok {
		err = ErrRunning
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("lock: %w", err), f.Close())
	}
	return f, nil
}

// fill creates a new container directory's content. upper/ gets root's mode
// and owner; chownUpper reports that the owner could not be given, which is
// no error when the cause is EPERM: the caller is then the unprivileged user
// on the host, root belongs to one of their subordinate ids, and the init,
// inside the user namespace, gives it (Container.ChownUpper).
func fill(dir string, rec Record, root fs.FileInfo) (chownUpper bool, err error) {
	upper := filepath.Join(dir, "upper")
	if err := os.Mkdir(upper, 0o700); err != nil {
		return false, err
	}
	if chownUpper, err = prepareUpper(upper, root); err != nil {
		return false, err
	}
	if err := os.Mkdir(filepath.Join(dir, "work"), 0o700); err != nil {
		return false, err
	}
	b, err := rec.encode()
	if err != nil {
		return false, err
	}
	return chownUpper, os.WriteFile(filepath.Join(dir, recordFile), b, 0o600)
}

// prepareUpper gives upper, which is ours, the mode of root, and its owner when
// it can (see chownLike). The mode is set explicitly: Mkdir's is filtered by
// the umask, and a spare's may be the last container's.
func prepareUpper(upper string, root fs.FileInfo) (chownPending bool, err error) {
	if err := os.Chmod(upper, root.Mode()&(fs.ModePerm|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return false, err
	}
	return chownLike(upper, root)
}

// chownLike gives dir the owner of root, when it is not ours already. Refused
// with EPERM (no CAP_CHOWN here), it leaves dir ours and reports that it is
// still to be done; any other error fails.
func chownLike(dir string, root fs.FileInfo) (pending bool, err error) {
	st, ok := root.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == os.Geteuid() && int(st.Gid) == os.Getegid() {
		return false, nil
	}
	err = os.Lchown(dir, int(st.Uid), int(st.Gid))
	if errors.Is(err, syscall.EPERM) {
		return true, nil
	}
	return false, err
}

// entry is one container directory: its record, or nil when it has none (being
// created, or its creation crashed).
type entry struct {
	id  string
	rec *Record
}

// list reads every container's record. Names that are not container ids are
// not containers.
func (d containerDirs) list() ([]entry, error) {
	f, err := os.Open(d.root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	names, err := f.Readdirnames(-1)
	if err = errors.Join(err, f.Close()); err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []entry
	for _, id := range names {
		if !isHex(id) {
			continue
		}
		e := entry{id: id}
		b, err := os.ReadFile(filepath.Join(d.dir(id), recordFile))
		switch {
		case err == nil:
			e.rec, _ = decodeRecord(id, b)
		case errors.Is(err, fs.ErrNotExist):
		default:
			return nil, fmt.Errorf("list containers: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// ErrRunning: the container's supervisor holds its liveness lock.
var ErrRunning = errors.New("container is running")

// removeStopped deletes container id unless its supervisor is alive. A
// container already gone is no error.
func (d containerDirs) removeStopped(id string) error {
	dir := d.dir(id)
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		var free bool
		if free, err = TryLock(f); err == nil && !free {
			err = ErrRunning
		}
		if err == nil {
			err = d.removeTree(dir)
		}
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		return fmt.Errorf("remove container %.12s: %w", id, err)
	}
	return nil
}

// cleanDead deletes the --rm containers whose supervisor is gone. It looks
// without the directory-wide lock, and takes it (shared) only when it found
// some, so that an rmi -f in progress never meets a container locked by this
// deletion and takes it for a running one.
func (d containerDirs) cleanDead() error {
	es, err := d.list()
	if err != nil {
		return err
	}
	var dead []string
	for _, e := range es {
		if e.rec == nil {
			// A directory without a record: a creation that crashed, or one in
			// progress. Only with the lock held exclusively, when no creation
			// can be in progress, can they be told apart; users deletes the
			// former. Rare: it takes a kill during the few mkdirs of a creation.
			unlock, err := d.lock(unix.LOCK_EX)
			if err != nil {
				return err
			}
			_, err = d.users()
			return errors.Join(err, unlock())
		}
		if e.rec.Remove {
			dead = append(dead, e.id)
		}
	}
	if len(dead) == 0 {
		return nil
	}
	unlock, err := d.lock(unix.LOCK_SH)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range dead {
		if err := d.removeStopped(id); !errors.Is(err, ErrRunning) {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, unlock())...)
}

// users maps image ids to the containers of each, running or stopped. On the
// way it deletes what is garbage: dead --rm containers, directories left
// without a record by a creation that crashed, and the spares.
// Must be called with the directory-wide lock held exclusively (no creation
// is then in progress).
func (d containerDirs) users() (map[string][]string, error) {
	es, err := d.list()
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	var errs []error
	for _, e := range es {
		if e.rec == nil || e.rec.Remove {
			err := d.removeStopped(e.id)
			if err == nil {
				continue
			}
			if !errors.Is(err, ErrRunning) {
				errs = append(errs, err)
			}
		}
		if e.rec != nil {
			users[e.rec.ImageID] = append(users[e.rec.ImageID], e.id)
		}
	}
	errs = append(errs, d.removeSpares())
	return users, errors.Join(errs...)
}

// removeTree deletes a container's directory. Inside ccrun's user namespace
// (or as root) CAP_DAC_OVERRIDE lets it into anything, including the
// overlay's work/work, which the kernel leaves with mode 000, and files the
// container created as other users. Without that capability it makes every
// directory its own can write to and enter writable, and tries again; what
// stays denied (directories of other owners) goes to d.removeDenied, when set.
func (d containerDirs) removeTree(dir string) error {
	err := os.RemoveAll(dir)
	if err == nil || !errors.Is(err, fs.ErrPermission) {
		return err
	}
	// WalkDir calls the function on a directory before it reads it.
	_ = filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err == nil && de.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil // what stays unreadable, RemoveAll reports
	})
	err = os.RemoveAll(dir)
	if err != nil && errors.Is(err, fs.ErrPermission) && d.removeDenied != nil {
		return d.removeDenied(dir)
	}
	return err
}

// removeEmpty deletes container directory dir, open as dirFD, when it holds
// only what create made and what the overlay leaves in work/ (see clearWork),
// all empty, as after a container that wrote nothing: some ten system calls,
// where os.RemoveAll makes some forty (it opens and reads each directory
// first). It stops at the first entry it cannot delete (a directory not
// empty, say) and reports false, having deleted what it could; removeTree
// then deletes the rest.
func removeEmpty(dirFD int, dir string) bool {
	if err := unix.Unlinkat(dirFD, recordFile, 0); err != nil && err != unix.ENOENT {
		return false
	}
	if err := unix.Unlinkat(dirFD, "upper", unix.AT_REMOVEDIR); err != nil && err != unix.ENOENT {
		return false
	}
	if !clearWork(dirFD) {
		return false
	}
	if err := unix.Unlinkat(dirFD, "work", unix.AT_REMOVEDIR); err != nil && err != unix.ENOENT {
		return false
	}
	return unix.Rmdir(dir) == nil
}
