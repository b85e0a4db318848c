package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newDirs is an empty container directory in a test's scratch directory, and
// the file information of an image root directory of mode 0751.
func newDirs(t *testing.T) (containerDirs, fs.FileInfo) {
	t.Helper()
	scratch := t.TempDir()
	root := filepath.Join(scratch, "image-root")
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o751); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		t.Fatal(err)
	}
	return containerDirs{root: filepath.Join(scratch, "ccrun-containers")}, fi
}

func hexID(c byte) string { return strings.Repeat(string(c), 64) }

// create makes a container of image img, locked (running) until the returned
// file is closed.
func create(t *testing.T, d containerDirs, root fs.FileInfo, id, img string, remove bool) *os.File {
	t.Helper()
	m, err := d.create(Record{ID: id, ImageID: img, Created: time.Now(), Remove: remove}, root)
	if err != nil {
		t.Fatal(err)
	}
	if m.chownUpper {
		t.Fatal("create left upper/'s owner to the init, with an image root of our own")
	}
	return m.lock
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func TestCreateContainerDir(t *testing.T) {
	d, root := newDirs(t)
	id, img := hexID('a'), hexID('f')
	lock := create(t, d, root, id, img, true)
	dir := d.dir(id)
	fi, err := os.Stat(filepath.Join(dir, "upper"))
	if err != nil || fi.Mode().Perm() != 0o751 {
		t.Errorf("upper/: %v, %v; want the image root's mode 0751", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "work")); err != nil || !fi.IsDir() {
		t.Errorf("work/: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "merged")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("merged/: %v; want none (the overlay is mounted on the directory itself)", err)
	}
	es, err := d.list()
	if err != nil || len(es) != 1 || es[0].rec == nil || es[0].rec.ImageID != img || !es[0].rec.Remove {
		t.Fatalf("list = %+v, %v", es, err)
	}
	if err := d.removeStopped(id); !errors.Is(err, ErrRunning) {
		t.Errorf("removeStopped of a running container: %v, want ErrRunning", err)
	}
	if err := lock.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.removeStopped(id); err != nil || exists(t, dir) {
		t.Errorf("removeStopped of a stopped container: %v; still there: %v", err, exists(t, dir))
	}
	if err := d.removeStopped(id); err != nil {
		t.Errorf("removeStopped of a container already gone: %v", err)
	}
	if _, err := d.create(Record{ID: "../x", ImageID: img}, root); err == nil {
		t.Error("create accepted a container id that is a path")
	}
}

// The next run deletes dead --rm containers and creations that crashed only: not
// running ones, not the ones run without --rm, not one being created.
func TestCleanDead(t *testing.T) {
	d, root := newDirs(t)
	img := hexID('f')
	running := create(t, d, root, hexID('1'), img, true)
	defer running.Close()
	for id, remove := range map[string]bool{hexID('2'): true, hexID('3'): false} {
		if err := create(t, d, root, id, img, remove).Close(); err != nil {
			t.Fatal(err)
		}
	}
	creating := d.dir(hexID('4')) // no record yet, its creator alive (holds the lock)
	if err := os.Mkdir(creating, 0o700); err != nil {
		t.Fatal(err)
	}
	lock, err := lockNew(creating)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	crashed := d.dir(hexID('5')) // no record, and its creator is gone
	if err := os.Mkdir(crashed, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := d.cleanDead(); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{hexID('1'): true, hexID('2'): false, hexID('3'): true, hexID('4'): true, hexID('5'): false} {
		if got := exists(t, d.dir(id)); got != want {
			t.Errorf("container %.4s exists: %v, want %v", id, got, want)
		}
	}
}

// Under the exclusive lock, users counts running and stopped containers, and
// clears away the dead --rm ones and creations that crashed.
func TestUsers(t *testing.T) {
	d, root := newDirs(t)
	imgA, imgB := hexID('a'), hexID('b')
	running := create(t, d, root, hexID('1'), imgA, true)
	defer running.Close()
	for _, c := range []struct {
		id, img string
		remove  bool
	}{{hexID('2'), imgA, false}, {hexID('3'), imgB, true}} {
		if err := create(t, d, root, c.id, c.img, c.remove).Close(); err != nil {
			t.Fatal(err)
		}
	}
	crashed := d.dir(hexID('4'))
	if err := os.MkdirAll(filepath.Join(crashed, "upper"), 0o700); err != nil {
		t.Fatal(err)
	}
	unlock, err := d.lock(unix.LOCK_EX)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	users, err := d.users()
	if err != nil {
		t.Fatal(err)
	}
	got := users[imgA]
	slices.Sort(got)
	if !slices.Equal(got, []string{hexID('1'), hexID('2')}) || len(users[imgB]) != 0 {
		t.Errorf("users = %v, want image a: the running and the stopped container; image b: none", users)
	}
	if exists(t, d.dir(hexID('3'))) || exists(t, crashed) {
		t.Error("users left the dead --rm container or the crashed creation")
	}
}

// rmi's exclusive lock waits for a run creating a container (shared), and runs
// do not wait for each other.
func TestContainersLock(t *testing.T) {
	d, _ := newDirs(t)
	if err := os.MkdirAll(filepath.Dir(d.lockPath()), 0o700); err != nil {
		t.Fatal(err)
	}
	un1, err := d.lock(unix.LOCK_SH)
	if err != nil {
		t.Fatal(err)
	}
	un2, err := d.lock(unix.LOCK_SH)
	if err != nil {
		t.Fatal(err)
	}
	if err := un2(); err != nil {
		t.Fatal(err)
	}
	got := make(chan error)
	go func() {
		unlock, err := d.lock(unix.LOCK_EX)
		if err == nil {
			err = unlock()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the exclusive lock was granted while a shared one was held: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := un1(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// The kernel leaves the overlay's work/work with mode 000; a container leaves
// directories of any mode. removeTree deletes them without CAP_DAC_OVERRIDE
// too (as root the test runs it as nobody, in a child process).
func TestRemoveTreeUnreadableDirs(t *testing.T) {
	if dir := os.Getenv("STORE_TEST_REMOVE_TREE"); dir != "" {
		if err := (containerDirs{}).removeTree(dir); err != nil {
			t.Fatal(err)
		}
		return
	}
	scratch := sharedScratch(t, "removetree-")
	dir := filepath.Join(scratch, "c")
	for _, p := range []string{"work/work", "upper/a/b"} {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "upper/a/b/f"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	uid := os.Geteuid()
	if uid == 0 {
		uid = 65534
	}
	// Everything, the directory holding the container's included, is the
	// remover's, as in a store.
	err := filepath.WalkDir(scratch, func(p string, de fs.DirEntry, err error) error {
		if err == nil {
			err = os.Lchown(p, uid, uid)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"work/work", "upper/a"} {
		if err := os.Chmod(filepath.Join(dir, p), 0); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() != 0 {
		err = (containerDirs{}).removeTree(dir)
	} else {
		var out []byte
		if out, err = runAs(t, scratch, uid, "TestRemoveTreeUnreadableDirs", "STORE_TEST_REMOVE_TREE="+dir); err != nil {
			t.Logf("%s", out)
		}
	}
	if err != nil || exists(t, dir) {
		t.Errorf("removeTree: %v; still there: %v", err, exists(t, dir))
	}
}

// What stays denied after removeTree made its own directories writable (a
// directory of another owner, closed to others) goes to the fallback given
// with Store.RemoveWith, with the container directory's path; without one the
// denial is the error. As root the remover runs as nobody, in a child process.
func TestRemoveTreeDeniedGoesToFallback(t *testing.T) {
	if dir := os.Getenv("STORE_TEST_REMOVE_DENIED"); dir != "" {
		if err := (containerDirs{}).removeTree(dir); !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("without a fallback: %v, want permission denied", err)
		}
		var got []string
		d := containerDirs{removeDenied: func(p string) error { got = append(got, p); return nil }}
		if err := d.removeTree(dir); err != nil || len(got) != 1 || got[0] != dir {
			t.Fatalf("with a fallback: %v, called with %q, want once with %s", err, got, dir)
		}
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a directory of another owner")
	}
	scratch := sharedScratch(t, "removedenied-")
	dir := filepath.Join(scratch, "c")
	closed := filepath.Join(dir, "upper", "d")
	if err := os.MkdirAll(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(closed, "f"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{scratch, dir, filepath.Dir(closed)} {
		if err := os.Lchown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	// closed and its file stay root's: nobody can empty or delete it.
	if out, err := runAs(t, scratch, 65534, "TestRemoveTreeDeniedGoesToFallback", "STORE_TEST_REMOVE_DENIED="+dir); err != nil {
		t.Errorf("%v\n%s", err, out)
	}
	if !exists(t, filepath.Join(closed, "f")) {
		t.Error("the closed directory's file is gone: the test proves nothing")
	}
}

// sharedScratch is a fresh directory that other users can enter (runAs runs
// there as another uid; t.TempDir's parent is private), removed after the test.
func sharedScratch(t *testing.T, prefix string) string {
	t.Helper()
	scratch, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(scratch) })
	if err := os.Chmod(scratch, 0o755); err != nil {
		t.Fatal(err)
	}
	return scratch
}

// runAs runs test of this test binary as uid (and gid uid), with env added to
// its environment, from a copy in scratch: the binary's own directory is
// private to root. Only root can call it.
func runAs(t *testing.T, scratch string, uid int, test string, env ...string) ([]byte, error) {
	t.Helper()
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(scratch, "store.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+test+"$", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	return cmd.CombinedOutput()
}

// upper/ gets the image root's owner. Root gives it; the unprivileged user on
// the host cannot when a subordinate id owns the image root (chown(2) fails
// with EPERM): create then leaves upper/ theirs, with the root's mode, and
// reports that the init is to give the owner (Container.ChownUpper). As root
// the unprivileged half runs as nobody, in a child process; as a user, the
// image root is /, owned by root, which is not them either.
func TestCreateChownUpper(t *testing.T) {
	if dirs := os.Getenv("STORE_TEST_CHOWN_UPPER"); dirs != "" {
		chownUpperChild(t, containerDirs{root: dirs}, os.Getenv("STORE_TEST_IMAGE_ROOT"))
		return
	}
	scratch := sharedScratch(t, "chownupper-")
	const sub = 100000 // a subordinate id, as /etc/subuid hands them out
	imageRoot := filepath.Join(scratch, "image-root")
	if os.Geteuid() != 0 {
		imageRoot = "/"
	} else {
		mustDir(t, imageRoot, 0o2751, sub)
	}
	root, err := os.Stat(imageRoot)
	if err != nil {
		t.Fatal(err)
	}
	wantMode := root.Mode() & (fs.ModePerm | fs.ModeSetgid | fs.ModeSticky)
	id := hexID('a')

	if os.Geteuid() == 0 {
		d := containerDirs{root: filepath.Join(scratch, "as-root")}
		m, err := d.create(Record{ID: id, ImageID: hexID('f')}, root)
		if err != nil {
			t.Fatal(err)
		}
		defer m.lock.Close()
		checkUpper(t, "as root", d.dir(id), sub, wantMode)
		if m.chownUpper {
			t.Error("as root: create left the owner to the init")
		}
	}

	uid := os.Geteuid()
	d := containerDirs{root: filepath.Join(scratch, "as-user")}
	var out []byte
	if uid == 0 {
		uid = 65534
		mustDir(t, d.root, 0o700, uid)
		out, err = runAs(t, scratch, uid, "TestCreateChownUpper", "STORE_TEST_CHOWN_UPPER="+d.root, "STORE_TEST_IMAGE_ROOT="+imageRoot)
	} else {
		out, err = chownUpperIn(t, d, imageRoot)
	}
	if err != nil {
		t.Fatalf("create as uid %d: %v\n%s", uid, err, out)
	}
	if !strings.Contains(string(out), "chownUpper=true") {
		t.Errorf("as uid %d: create did not leave the owner to the init:\n%s", uid, out)
	}
	checkUpper(t, "as a user", d.dir(id), uid, wantMode)

	// Only EPERM is left to the init: another failure still fails.
	if pending, err := chownLike(filepath.Join(scratch, "missing"), root); err == nil || pending {
		t.Errorf("chownLike of a missing directory: pending %v, %v; want an error", pending, err)
	}
}

// chownUpperChild is TestCreateChownUpper's child: it creates a container
// over imageRoot in d and prints whether upper/'s owner is left to the init.
func chownUpperChild(t *testing.T, d containerDirs, imageRoot string) {
	out, err := chownUpperIn(t, d, imageRoot)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s\n", out)
}

func chownUpperIn(t *testing.T, d containerDirs, imageRoot string) ([]byte, error) {
	root, err := os.Stat(imageRoot)
	if err != nil {
		return nil, err
	}
	m, err := d.create(Record{ID: hexID('a'), ImageID: hexID('f')}, root)
	if err != nil {
		return nil, err
	}
	return []byte(fmt.Sprintf("chownUpper=%v", m.chownUpper)), m.lock.Close()
}

// mustDir makes directory dir with mode, owned by uid (and gid uid).
func mustDir(t *testing.T, dir string, mode fs.FileMode, uid int) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(dir, uid, uid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

// checkUpper checks the owner and mode of the upper directory of the container
// in dir.
func checkUpper(t *testing.T, who, dir string, uid int, mode fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(dir, "upper"))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != uid || fi.Mode()&(fs.ModePerm|fs.ModeSetgid|fs.ModeSticky) != mode {
		t.Errorf("%s: upper/ is uid %d, mode %v; want uid %d, mode %v", who, st.Uid, fi.Mode(), uid, mode)
	}
}

// An --rm container that wrote nothing is deleted by removeEmpty alone,
// including the work/work of mode 000 the kernel leaves, and the volatile
// mark in it; one that wrote something is left to removeTree, which then
// deletes the rest.
func TestRemoveEmpty(t *testing.T) {
	d, root := newDirs(t)
	for _, tc := range []struct {
		name  string
		wrote bool
	}{{"wrote nothing", false}, {"wrote a file", true}} {
		t.Run(tc.name, func(t *testing.T) {
			id := hexID('b')
			if tc.wrote {
				id = hexID('c')
			}
			lock := create(t, d, root, id, hexID('f'), true)
			defer lock.Close()
			dir := d.dir(id)
			ranLike(t, d, id)
			if tc.wrote {
				if err := os.WriteFile(filepath.Join(dir, "upper", "file"), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := removeEmpty(int(lock.Fd()), dir); got == tc.wrote {
				t.Fatalf("removeEmpty = %v, want %v", got, !tc.wrote)
			}
			if tc.wrote {
				if !exists(t, filepath.Join(dir, "upper", "file")) {
					t.Fatal("removeEmpty deleted a file the container wrote")
				}
				if err := d.removeTree(dir); err != nil {
					t.Fatal(err)
				}
			}
			if exists(t, dir) {
				t.Errorf("%s still exists", dir)
			}
		})
	}
}
