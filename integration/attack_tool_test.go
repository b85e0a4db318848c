package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// attackToolSource is a small static program the attack tests copy into the
// container's root: what busybox cannot do, it does with raw syscalls, and it
// reports each result as one line "name: ok" or "name: <error>".
//
//	attack tiocsti FD TEXT  push TEXT into the terminal on FD (TIOCSTI)
//	attack ctty             open /dev/tty, the controlling terminal
//	attack euid             print the effective uid
//	attack exes             for every /proc/PID/exe: its device and inode, and
//	                        whether it can be reopened for writing and written
//	                        (the byte at offset 0 is written back unchanged)
const attackToolSource = `package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

func main() {
	switch os.Args[1] {
	case "tiocsti":
		fd := 0
		fmt.Sscan(os.Args[2], &fd)
		for _, c := range []byte(os.Args[3]) {
			b := c
			_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCSTI, uintptr(unsafe.Pointer(&b)))
			if e != 0 {
				fmt.Println("tiocsti:", e)
				return
			}
		}
		fmt.Println("tiocsti: ok")
	case "ctty":
		f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			fmt.Println("ctty:", err)
			return
		}
		f.Close()
		fmt.Println("ctty: ok")
	case "euid":
		fmt.Printf("euid=%d\n", os.Geteuid())
	case "exes":
		exes()
	}
}

func exes() {
	links, _ := filepath.Glob("/proc/[0-9]*/exe")
	for _, l := range links {
		var st syscall.Stat_t
		if err := syscall.Stat(l, &st); err != nil {
			continue
		}
		fmt.Printf("exe %s dev=%d ino=%d write=%s\n", l, st.Dev, st.Ino, rewrite(l))
	}
}

// rewrite does what CVE-2019-5736 did: hold the executable by an O_PATH
// descriptor, then reopen it for writing through /proc/self/fd.
func rewrite(l string) string {
	const oPath = 0x200000 // O_PATH on amd64 and arm64
	fd, err := syscall.Open(l, oPath, 0)
	if err != nil {
		return "open-path:" + err.Error()
	}
	defer syscall.Close(fd)
	w, err := syscall.Open(fmt.Sprintf("/proc/self/fd/%d", fd), syscall.O_RDWR, 0)
	if err != nil {
		return "denied:" + err.Error()
	}
	defer syscall.Close(w)
	b := make([]byte, 1)
	if _, err := syscall.Pread(w, b, 0); err != nil {
		return "denied:" + err.Error()
	}
	if _, err := syscall.Pwrite(w, b, 0); err != nil {
		return "denied:" + err.Error()
	}
	return "WRITABLE"
}
`

// installAttackTool builds the tool into root as /attack, with the Go toolchain
// (CGO_ENABLED=0, so that it runs in a root without libc). The build cache makes
// every build after the first take a fraction of a second.
func installAttackTool(t *testing.T, root string) {
	t.Helper()
	gobin, err := goTool()
	if err != nil {
		t.Skipf("cannot build the attack tool: %v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "attack.go")
	if err := os.WriteFile(src, []byte(attackToolSource), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-o", filepath.Join(root, "attack"), src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=", "GOPROXY=off", "GO111MODULE=on")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the attack tool: %v\n%s", err, out)
	}
}

// goTool finds go on $PATH, where this test's toolchain lives, or in the usual place.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	for _, p := range []string{filepath.Join(runtime.GOROOT(), "bin", "go"), "/usr/local/go/bin/go"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no go on $PATH or in /usr/local/go/bin")
}

// fileDigest fingerprints a host file, to show an attack left it alone.
func fileDigest(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(data))
}

// dirListing lists a host directory, to show an attack created nothing in it.
func dirListing(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

// lines turns "key: value" or "key=value" output into a map.
func lines(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			k, v, ok = strings.Cut(l, "=")
		}
		if ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// runWithFiles runs ccrun with extra open descriptors (fd 3, 4, ...) inherited
// from the caller, as a careless parent would hand them on.
func runWithFiles(t *testing.T, files []*os.File, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ccrunBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.ExtraFiles = files
	cmd.Env = testEnv()
	err := cmd.Run()
	r := result{Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("ccrun %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// callerTerminal is a pseudoterminal standing for the terminal of the shell
// that runs ccrun: ccrun gets the pty's other end as stdio and controlling tty.
type callerTerminal struct {
	master, slave *os.File
}

func newCallerTerminal(t *testing.T) *callerTerminal {
	t.Helper()
	// Non-blocking, so that the runtime's poller serves it and a read deadline
	// can end the reader.
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudoterminals: %v", err)
	}
	master := os.NewFile(uintptr(fd), "ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	peer, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno != 0 {
		t.Fatalf("open pty peer: %v", errno)
	}
	slave := os.NewFile(peer, "pty-peer")
	t.Cleanup(func() { slave.Close() })
	return &callerTerminal{master: master, slave: slave}
}

// run starts ccrun in a new session whose controlling terminal is the pty, with
// the pty as stdin, stdout and stderr, and returns what it wrote there.
func (c *callerTerminal) run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(ccrunBin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.slave, c.slave, c.slave
	cmd.Env = testEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := c.master.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case <-waitErr:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("ccrun on a terminal: timed out")
	}
	// Give the reader the last output, then stop it.
	time.Sleep(200 * time.Millisecond)
	if err := c.master.SetReadDeadline(time.Now()); err != nil {
		t.Fatalf("stop reading the terminal: %v", err)
	}
	<-done
	return out.String()
}

// pendingInput reads what is waiting in the terminal's input queue, as the
// caller's shell would read it after ccrun exits.
func (c *callerTerminal) pendingInput(t *testing.T) string {
	t.Helper()
	n, err := unix.IoctlGetInt(int(c.slave.Fd()), unix.TIOCINQ)
	if err != nil {
		t.Fatalf("TIOCINQ: %v", err)
	}
	if n == 0 {
		return ""
	}
	if err := unix.SetNonblock(int(c.slave.Fd()), true); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, n+64)
	k, _ := unix.Read(int(c.slave.Fd()), buf)
	return string(buf[:max(k, 0)])
}
