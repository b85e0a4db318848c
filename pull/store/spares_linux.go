package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// # Spare directories
//
// A container's directory is two directories and a file in a directory of its
// own (see containerDirs), and the overlay adds work/work. On these hosts' root
// filesystem, ext4 without a journal, mounted -o discard, making and deleting
// them was most of what a container cost its supervisor:
//
//   - to allocate an inode, ext4 skips every inode of the group that was freed
//     in the last minute (six, while the inode table's block is dirty), each
//     looked up in the buffer cache (recently_deleted, fs/ext4/ialloc.c). With
//     containers made and deleted many times a minute, each mkdir(2) walks past
//     thousands: perf put 60% of the supervisor's CPU there;
//   - each block freed is a discard that unlink(2) and rmdir(2) wait for.
//
// (A journalled ext4 does neither.) So an --rm container that wrote nothing is
// not deleted: its directory stays as a spare, spare-<id>, and the next
// container takes it over with one rename(2).
//
// A spare holds exactly what create makes: an empty upper/ and an empty work/
// (the kernel makes work/work again at the next mount; see clearWork), and
// the old record,
// which the next container rewrites in place (so no block is freed or
// allocated). The directory is parked only when upper/ is as a new one would
// be: no entries, ours, no extended attributes but the overlay's uuid (which
// is removed, so each container's overlay gets its own), and the same inode
// flags (chattr(1)) as work/, which the container never sees. Its mode, which
// the container may have changed (chmod /), is set again from the next
// image's root. Anything else and the directory is deleted as before.
//
// Parking is the last step of Release, under the container's liveness lock.
// Taking a spare over happens under the containers lock (shared) and the
// spare's own liveness lock, so two runs never take the same one, and a run
// killed half-way leaves a directory named by its id without its lock, which
// the next CleanDead deletes. A spare is never taken for a container: its name
// is not an id, and every listing skips it. create leaves no more than
// maxSpares; rmi and image prune delete them all (users).

// sparePrefix starts the name of a spare directory: spare-<id of the last
// container that used it>.
const sparePrefix = "spare-"

// maxSpares is how many spares create lets containers leave: as many as run
// --rm at the same time, up to this.
const maxSpares = 4

// spares lists the names of the spare directories.
func (d containerDirs) spares() []string {
	f, err := os.Open(d.root)
	if err != nil {
		return nil
	}
	names, _ := f.Readdirnames(-1)
	f.Close()
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, sparePrefix) {
			out = append(out, n)
		}
	}
	return out
}

// takeSpare renames the first of spares that it can lock to container id's
// directory, and returns it locked; nil when it took none (another run may
// take each meanwhile). It never replaces a directory.
// Must be called with the directory-wide lock held (shared).
func (d containerDirs) takeSpare(id string, spares []string) *os.File {
	for _, name := range spares {
		path := filepath.Join(d.root, name)
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		f := os.NewFile(uintptr(fd), path)
		// Once locked, the name still names this directory unless another run
		// took it and parked it again since: under another name, so the rename
		// fails.
		if ok, err := TryLock(f); err != nil || !ok {
			f.Close()
			continue
		}
		if unix.Renameat2(unix.AT_FDCWD, path, unix.AT_FDCWD, d.dir(id), unix.RENAME_NOREPLACE) != nil {
			f.Close()
			continue
		}
		return f
	}
	return nil
}

// reuse readies a spare taken over as rec.ID's directory dir: upper/ gets the
// mode and owner of root as a new one would (see prepareUpper), and the
// record is rewritten.
func reuse(dir string, rec Record, root fs.FileInfo) (chownUpper bool, err error) {
	if chownUpper, err = prepareUpper(filepath.Join(dir, "upper"), root); err != nil {
		return false, err
	}
	return chownUpper, rewriteRecord(filepath.Join(dir, recordFile), rec)
}

// rewriteRecord writes rec over the file at path, in place: a record is far
// smaller than a block, so this frees and allocates none.
func rewriteRecord(path string, rec Record) error {
	b, err := rec.encode()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(b, 0)
	if err == nil {
		err = f.Truncate(int64(len(b)))
	}
	return errors.Join(err, f.Close())
}

// overlayUUID are the names of the extended attribute the overlay keeps its
// uuid in on the upper directory's root (overlayfs(5), uuid=auto): user.* when
// it was mounted with userxattr.
var overlayUUID = []string{"user.overlay.uuid", "trusted.overlay.uuid"}

// park makes container directory dir, open as dirFD, a spare when it holds
// what create made and upper/ is as a new one would be (see the top of this
// file), and reports whether it did. When it did not, dir is as it was, but
// for the overlay's uuid and work/work, which may be gone.
func park(dirFD int, dir string) bool {
	if names, err := dirNames(dirFD); err != nil || !sameNames(names, recordFile, "upper", "work") {
		return false
	}
	upper, err := unix.Openat(dirFD, "upper", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(upper)
	work, err := unix.Openat(dirFD, "work", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(work)
	attrs, ok := pristine(upper, work)
	if !ok {
		return false
	}
	for _, a := range attrs {
		err := unix.Fremovexattr(upper, a)
		if err == unix.EACCES {
			// A user.* attribute needs write permission, which an image's
			// root of mode 555 leaves not even its owner; reuse sets the
			// mode again anyway.
			if err = unix.Fchmod(upper, 0o700); err == nil {
				err = unix.Fremovexattr(upper, a)
			}
		}
		if err != nil {
			return false
		}
	}
	if !clearWork(dirFD) {
		return false
	}
	if names, err := dirNames(work); err != nil || len(names) != 0 {
		return false
	}
	spare := filepath.Join(filepath.Dir(dir), sparePrefix+filepath.Base(dir))
	return unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, spare, unix.RENAME_NOREPLACE) == nil
}

// clearWork deletes what the overlay leaves in the work directory of the
// container directory open as dirFD once unmounted, when that is all there is:
// work/work, and in it, when it was mounted volatile, incompat/volatile/dirty,
// the mark by which the next mount refuses an upper directory that a crash
// may have left half-written (overlayfs.rst), all of mode 000. A container
// that has exited is not mounted any more, and its upper directory is
// consistent. It reports false when something else is there (a copy-up cut
// short), having deleted none of it.
func clearWork(dirFD int) bool {
	for _, dir := range workMarks[:3] {
		if err := unix.Fchmodat(dirFD, dir, 0o700, 0); err == unix.ENOENT {
			break
		} else if err != nil {
			return false
		}
	}
	for i := len(workMarks) - 1; i >= 0; i-- {
		flags := unix.AT_REMOVEDIR
		if i == len(workMarks)-1 {
			flags = 0
		}
		if err := unix.Unlinkat(dirFD, workMarks[i], flags); err != nil && err != unix.ENOENT {
			return false
		}
	}
	return true
}

// workMarks is what a volatile overlay leaves in its work directory: three
// directories and a file.
var workMarks = []string{"work/work", "work/work/incompat", "work/work/incompat/volatile", "work/work/incompat/volatile/dirty"}

// pristine reports whether upper, the container's upper directory, is as
// create made it, but for its mode: empty, ours, with work's inode flags, and
// no extended attributes but the overlay's uuid, which it returns.
func pristine(upper, work int) (uuid []string, ok bool) {
	var st unix.Stat_t
	if unix.Fstat(upper, &st) != nil || int(st.Uid) != os.Geteuid() || int(st.Gid) != os.Getegid() {
		return nil, false
	}
	if names, err := dirNames(upper); err != nil || len(names) != 0 {
		return nil, false
	}
	fu, erru := unix.IoctlGetUint32(upper, unix.FS_IOC_GETFLAGS)
	fw, errw := unix.IoctlGetUint32(work, unix.FS_IOC_GETFLAGS)
	if erru != errw || erru == nil && fu != fw {
		return nil, false
	}
	attrs, err := xattrNames(upper)
	if err != nil {
		return nil, false
	}
	for _, a := range attrs {
		if !slices.Contains(overlayUUID, a) {
			return nil, false
		}
	}
	return attrs, true
}

// dirNames lists the entries of the directory open as fd, but . and .., from
// its start.
func dirNames(fd int) ([]string, error) {
	if _, err := unix.Seek(fd, 0, 0); err != nil {
		return nil, err
	}
	var names []string
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}

// sameNames reports whether names holds exactly want, in any order.
func sameNames(names []string, want ...string) bool {
	if len(names) != len(want) {
		return false
	}
	for _, w := range want {
		if !slices.Contains(names, w) {
			return false
		}
	}
	return true
}

// xattrNames lists the names of the extended attributes of the file open as
// fd that this process can see.
func xattrNames(fd int) ([]string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Flistxattr(fd, buf)
		if err == unix.ERANGE {
			buf = make([]byte, 2*len(buf))
			continue
		}
		if err != nil {
			return nil, err
		}
		var names []string
		for _, s := range strings.Split(string(buf[:n]), "\x00") {
			if s != "" {
				names = append(names, s)
			}
		}
		return names, nil
	}
}

// removeSpares deletes the spare directories nobody is taking over or parking.
// Must be called with the directory-wide lock held exclusively.
func (d containerDirs) removeSpares() error {
	var errs []error
	for _, name := range d.spares() {
		path := filepath.Join(d.root, name)
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			var free bool
			if free, err = TryLock(f); err == nil && free {
				err = d.removeTree(path)
			}
			err = errors.Join(err, f.Close())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove spare directory %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
