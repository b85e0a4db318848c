package overlay

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// storeLike lays out n layers the way containers/storage does (<home>/<id>/diff
// with a short link l/<short> -> ../<id>/diff), each holding f<i> and its own
// version of "top", plus a container's diff, work and merged directories.
func storeLike(t *testing.T, n int) Root {
	t.Helper()
	// A long home makes absolute paths overflow the page sooner.
	h := filepath.Join(t.TempDir(), strings.Repeat("h", 100))
	must(t, os.MkdirAll(filepath.Join(h, "l"), 0o755))
	r := Root{Home: h}
	for i := range n {
		id := fmt.Sprintf("%064x", i)
		diff := filepath.Join(h, id, "diff")
		must(t, os.MkdirAll(diff, 0o755))
		must(t, os.WriteFile(filepath.Join(diff, fmt.Sprintf("f%d", i)), []byte("x"), 0o644))
		must(t, os.WriteFile(filepath.Join(diff, "top"), []byte(fmt.Sprint(i)), 0o644))
		short := fmt.Sprintf("%026d", i)
		must(t, os.Symlink(filepath.Join("..", id, "diff"), filepath.Join(h, "l", short)))
		r.Lower = append(r.Lower, Layer{Dir: diff, Short: "l/" + short})
	}
	c := filepath.Join(h, strings.Repeat("c", 64))
	r.Upper, r.Work, r.Target = c+"/diff", c+"/work", c+"/merged"
	for _, d := range []string{r.Upper, r.Work, r.Target} {
		must(t, os.MkdirAll(d, 0o700))
	}
	return r
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// inPrivateMountNamespace runs f on an OS thread of its own that has left the
// test's mount namespace (and, with it, shares no cwd): mounts made by f vanish
// when the thread exits, because the goroutine never unlocks it.
func inPrivateMountNamespace(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
			errc <- fmt.Errorf("unshare mount namespace: %w", err)
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			errc <- fmt.Errorf("make / private: %w", err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

func mountLegacy(m Mount) error {
	if m.Chdir != "" {
		if err := unix.Chdir(m.Chdir); err != nil {
			return err
		}
	}
	return unix.Mount("overlay", m.Target, "overlay", 0, m.Options)
}

func mountFsconfig(m Mount) error {
	if m.Chdir != "" {
		if err := unix.Chdir(m.Chdir); err != nil {
			return err
		}
	}
	fs, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(fs)
	for _, p := range m.Params {
		k, v, ok := strings.Cut(p, "=")
		if ok {
			err = unix.FsconfigSetString(fs, k, v)
		} else {
			err = unix.FsconfigSetFlag(fs, k)
		}
		if err != nil {
			return fmt.Errorf("fsconfig %s: %w", p, err)
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return err
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(mnt)
	return unix.MoveMount(mnt, "", unix.AT_FDCWD, m.Target, unix.MOVE_MOUNT_F_EMPTY_PATH)
}

// The plan must mount, with both mount APIs, for a few layers (absolute paths) and
// for many (short relative paths): the newest layer wins, every layer is visible,
// and writes land in the upper directory only.
func TestPlanMounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting overlayfs in a private mount namespace needs root (CAP_SYS_ADMIN)")
	}
	for _, n := range []int{1, 3, 60} {
		for name, mount := range map[string]func(Mount) error{"mount(2)": mountLegacy, "fsconfig(2)": mountFsconfig} {
			t.Run(fmt.Sprintf("%d layers with %s", n, name), func(t *testing.T) {
				r := storeLike(t, n)
				m, err := Plan(r)
				if err != nil {
					t.Fatal(err)
				}
				if n == 60 && m.Chdir == "" {
					t.Fatalf("60 layers should need relative paths: %d bytes", len(m.Options))
				}
				err = inPrivateMountNamespace(func() error {
					if err := mount(m); err != nil {
						return fmt.Errorf("mount %s: %w", m.Options, err)
					}
					return checkMerged(r, n)
				})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join(r.Upper, "new")); err != nil {
					t.Errorf("the write did not land in the upper directory: %v", err)
				}
				if _, err := os.Stat(filepath.Join(r.Lower[0].Dir, "new")); err == nil {
					t.Error("the write reached a lower layer")
				}
			})
		}
	}
}

func checkMerged(r Root, n int) error {
	top, err := os.ReadFile(filepath.Join(r.Target, "top"))
	if err != nil || string(top) != "0" {
		return fmt.Errorf("top = %q, %v; want the newest layer's (0)", top, err)
	}
	for i := range n {
		if _, err := os.Stat(filepath.Join(r.Target, fmt.Sprintf("f%d", i))); err != nil {
			return fmt.Errorf("layer %d is not visible: %w", i, err)
		}
	}
	return os.WriteFile(filepath.Join(r.Target, "new"), []byte("w"), 0o644)
}
