package store

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ranLike leaves in container id's directory what a volatile overlay leaves
// once unmounted, after a run that wrote nothing (Linux 6.18): work/work,
// work/work/incompat, work/work/incompat/volatile and in it the file dirty,
// all of mode 000, and the overlay's uuid on upper/.
func ranLike(t *testing.T, d containerDirs, id string) {
	t.Helper()
	dir := d.dir(id)
	if err := os.MkdirAll(filepath.Join(dir, "work", "work", "incompat", "volatile"), 0o700); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, "work", "work", "incompat", "volatile", "dirty"))
	setModes(t, dir, 0)
	// So that t.TempDir's clean-up, which runs after, can get in.
	t.Cleanup(func() { setModes(t, dir, 0o700) })
	if err := unix.Setxattr(filepath.Join(dir, "upper"), "user.overlay.uuid", []byte("0123456789abcdef"), 0); err != nil {
		t.Fatal(err)
	}
}

// setModes sets the mode of what a volatile overlay leaves in work/, the
// innermost first when closing them, the outermost first when opening them.
func setModes(t *testing.T, dir string, mode fs.FileMode) {
	marks := slices.Clone(workMarks)
	if mode == 0 {
		slices.Reverse(marks)
	}
	for _, m := range marks {
		if err := os.Chmod(filepath.Join(dir, m), mode); err != nil && !os.IsNotExist(err) {
			t.Error(err)
		}
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// An --rm container that wrote nothing leaves its directory as a spare, which
// the next container takes over, with its own record and its image root's
// mode, and nothing of the last one's.
func TestSpareParkedAndTakenOver(t *testing.T) {
	d, root := newDirs(t)
	first, second := hexID('1'), hexID('2')
	m, err := d.create(Record{ID: first, ImageID: hexID('f'), Created: time.Now(), Remove: true}, root)
	if err != nil || !m.park {
		t.Fatalf("create: %+v, %v; want a directory that may be parked", m, err)
	}
	ranLike(t, d, first)
	// chmod / in the container, to a mode that leaves even the owner no write
	// permission, which removing a user.* attribute needs.
	if err := os.Chmod(filepath.Join(d.dir(first), "upper"), 0o555); err != nil {
		t.Fatal(err)
	}
	spare := filepath.Join(d.root, sparePrefix+first)
	if !park(int(m.lock.Fd()), d.dir(first)) {
		t.Fatal("park refused the directory of a container that wrote nothing")
	}
	m.lock.Close()
	if exists(t, d.dir(first)) || !exists(t, spare) {
		t.Fatalf("after park: %s exists %v, spare exists %v", d.dir(first), exists(t, d.dir(first)), exists(t, spare))
	}
	if attrs, err := xattrNames(mustOpen(t, filepath.Join(spare, "upper"))); err != nil || len(attrs) != 0 {
		t.Errorf("the spare's upper/ keeps extended attributes %q, %v", attrs, err)
	}
	if es, err := os.ReadDir(filepath.Join(spare, "work")); err != nil || len(es) != 0 {
		t.Errorf("the spare's work/ holds %v, %v; want it empty", es, err)
	}
	if es, err := d.list(); err != nil || len(es) != 0 {
		t.Errorf("list sees %+v, %v: a spare is no container", es, err)
	}
	ino := inode(t, spare)

	rec := Record{ID: second, ImageID: hexID('e'), Image: "localhost/x:1", Created: time.Now().UTC().Truncate(time.Second), Remove: true}
	m, err = d.create(rec, root)
	if err != nil {
		t.Fatal(err)
	}
	defer m.lock.Close()
	if exists(t, spare) || inode(t, d.dir(second)) != ino {
		t.Fatal("the second container did not take the spare over")
	}
	b, err := os.ReadFile(filepath.Join(d.dir(second), recordFile))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := decodeRecord(second, b); err != nil || *got != rec {
		t.Errorf("record %s: %+v, %v; want %+v", b, got, err, rec)
	}
	checkUpper(t, "taken over", d.dir(second), os.Geteuid(), root.Mode()&fs.ModePerm)
	if ok, err := TryLock(mustFile(t, d.dir(second))); ok || err != nil {
		t.Errorf("the directory taken over is not locked: %v, %v", ok, err)
	}
}

func mustOpen(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func mustFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// What a container did to its directory, beyond an empty run, keeps it from
// being parked: it is deleted instead.
func TestSpareRefused(t *testing.T) {
	for name, change := range map[string]func(t *testing.T, dir string){
		"a file":                func(t *testing.T, dir string) { mustWrite(t, filepath.Join(dir, "upper", "f")) },
		"an extended attribute": func(t *testing.T, dir string) { mustXattr(t, filepath.Join(dir, "upper"), "user.x") },
		"a default ACL": func(t *testing.T, dir string) {
			// system.posix_acl_default with one entry: user::rwx, group::rwx, other::rwx.
			acl := []byte{2, 0, 0, 0, 1, 0, 7, 0, 255, 255, 255, 255, 4, 0, 7, 0, 255, 255, 255, 255, 32, 0, 7, 0, 255, 255, 255, 255}
			if err := unix.Setxattr(filepath.Join(dir, "upper"), "system.posix_acl_default", acl, 0); err != nil {
				t.Skip("no ACLs here:", err)
			}
		},
		"an inode flag": func(t *testing.T, dir string) {
			fd := mustOpen(t, filepath.Join(dir, "upper"))
			flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
			if err == nil {
				err = unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(flags|fsNodumpFL))
			}
			if err != nil {
				t.Skip("no inode flags here:", err)
			}
		},
		"something in work/work": func(t *testing.T, dir string) {
			setModes(t, dir, 0o700)
			mustWrite(t, filepath.Join(dir, "work", "work", "#1"))
			setModes(t, dir, 0)
		},
		"something in work/work/incompat/volatile": func(t *testing.T, dir string) {
			setModes(t, dir, 0o700)
			mustWrite(t, filepath.Join(dir, "work", "work", "incompat", "volatile", "x"))
			setModes(t, dir, 0)
		},
		"another entry": func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "merged"), 0o700); err != nil {
				t.Fatal(err)
			}
		},
		"another owner": func(t *testing.T, dir string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root")
			}
			if err := os.Lchown(filepath.Join(dir, "upper"), 1234, 1234); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			d, root := newDirs(t)
			id := hexID('3')
			m, err := d.create(Record{ID: id, ImageID: hexID('f'), Remove: true}, root)
			if err != nil {
				t.Fatal(err)
			}
			defer m.lock.Close()
			ranLike(t, d, id)
			change(t, d.dir(id))
			if park(int(m.lock.Fd()), d.dir(id)) {
				t.Fatal("park took the directory")
			}
			if spares := d.spares(); len(spares) != 0 || !exists(t, filepath.Join(d.dir(id), "upper")) {
				t.Errorf("spares %q, upper/ still there %v; want none and yes", spares, exists(t, filepath.Join(d.dir(id), "upper")))
			}
			// Release then deletes it.
			c := &Container{ID: id, dir: d.dir(id), dirs: d, lock: m.lock, park: m.park}
			if err := c.Release(true); err != nil || exists(t, d.dir(id)) {
				t.Errorf("Release: %v; directory left: %v", err, exists(t, d.dir(id)))
			}
		})
	}
}

// fsNodumpFL is FS_NODUMP_FL (chattr +d, <linux/fs.h>), which an owner may set.
const fsNodumpFL = 0x40

func mustWrite(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustXattr(t *testing.T, path, name string) {
	t.Helper()
	if err := unix.Setxattr(path, name, []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
}

// No more than maxSpares are left; a spare someone holds is not taken; rmi and
// image prune (users) delete the spares nobody holds.
func TestSparesBounded(t *testing.T) {
	d, root := newDirs(t)
	var locks []*os.File
	for i := range maxSpares + 1 {
		id := strings.Repeat(string(rune('a'+i)), 64)
		m, err := d.create(Record{ID: id, ImageID: hexID('f'), Remove: true}, root)
		if err != nil {
			t.Fatal(err)
		}
		if m.park != (i < maxSpares) {
			t.Errorf("container %d: park = %v with %d spares", i, m.park, i)
		}
		locks = append(locks, m.lock)
		ranLike(t, d, id)
		if m.park && !park(int(m.lock.Fd()), d.dir(id)) {
			t.Fatal("park refused")
		}
		if !m.park {
			m.lock.Close() // deleted as before
		}
	}
	if got := len(d.spares()); got != maxSpares {
		t.Fatalf("%d spares, want %d", got, maxSpares)
	}
	// Each spare is still locked, as by a run taking it over or parking it.
	m, err := d.create(Record{ID: hexID('9'), ImageID: hexID('f')}, root)
	if err != nil || m.park || len(d.spares()) != maxSpares {
		t.Fatalf("create with every spare held: %+v, %v, %d spares left; want a new directory, not to be parked", m, err, len(d.spares()))
	}
	m.lock.Close()
	held := locks[0]
	for _, l := range locks[1:maxSpares] {
		l.Close()
	}
	if _, err := d.users(); err != nil {
		t.Fatal(err)
	}
	if got := d.spares(); len(got) != 1 || !slices.Contains(got, sparePrefix+hexID('a')) {
		t.Errorf("after users: spares %q; want only the held one", got)
	}
	held.Close()
	if _, err := d.users(); err != nil || len(d.spares()) != 0 {
		t.Errorf("after users: %q, %v; want no spares", d.spares(), err)
	}
}
