package child

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// The test binary's main goroutine stays on the main thread, as ccrun's does
// when it starts the init, so TestMain can take Start's main-thread path.
func init() { runtime.LockOSThread() }

var mainThreadResult = "not run"

func TestMain(m *testing.M) {
	mainThreadResult = startOnMainThread()
	os.Exit(m.Run())
}

// startOnMainThread starts a child with a parent-death signal from the main
// thread, ends a few threads (goroutines locked to them that return), and
// reports "" if the child outlived them and is then killed and waited for.
func startOnMainThread() string {
	attr := &syscall.ProcAttr{Files: []uintptr{0, 1, 2}, Sys: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}}
	p, err := Start("/bin/sleep", []string{"sleep", "60"}, attr)
	if err != nil {
		return err.Error()
	}
	for i := 0; i < 4; i++ {
		done := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(done) // returns locked: Go ends this thread
		}()
		<-done
	}
	time.Sleep(50 * time.Millisecond)
	select {
	case ws := <-p.Done:
		return fmt.Sprintf("the child died with another thread: status %#x", uint32(ws))
	default:
	}
	if err := syscall.Kill(p.Pid, syscall.SIGKILL); err != nil {
		return err.Error()
	}
	if ws := <-p.Done; !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		return fmt.Sprintf("want the child killed by SIGKILL, got status %#x", uint32(ws))
	}
	return ""
}

// A child started from the main thread lives until it is killed, whatever
// threads end meanwhile (its parent-death signal follows the thread that
// started it).
func TestStartOnMainThread(t *testing.T) {
	if mainThreadResult != "" {
		t.Fatal(mainThreadResult)
	}
}
