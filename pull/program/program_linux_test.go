package program

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The test binary doubles as the program: with testServe set, TestMain serves.
const testServe = "CCRUN_PROGRAM_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(testServe) != "" {
		os.Exit(Serve(func(req Request) Reply {
			switch req.Op {
			case "exit":
				os.Exit(3) // dies without a reply
			case "fail":
				return Reply{Error: "no such image", Hint: "pull it"}
			}
			return Reply{ID: req.Ref.Name + "|" + req.Password, File: req.Store.GraphRoot}
		}))
	}
	os.Exit(m.Run())
}

// self is this test binary, to run as the program.
func self(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(testServe, "1")
	return string(b)
}

func TestRunRoundTrip(t *testing.T) {
	bin := self(t)
	var req Request
	req.Op, req.Ref.Name, req.Password, req.Store.GraphRoot = OpPull, "localhost/bb:latest", "s3cret", "/store"
	reply, err := Run(bin, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reply.ID != "localhost/bb:latest|s3cret" || reply.File != "/store" {
		t.Errorf("reply = %+v: the request did not arrive whole", reply)
	}
	reply, err = Run(bin, Request{Op: "fail"}, nil)
	if err != nil || reply.Error != "no such image" || reply.Hint != "pull it" {
		t.Errorf("a failure the program reports: %+v, %v", reply, err)
	}
}

func TestRunWithoutReply(t *testing.T) {
	_, err := Run(self(t), Request{Op: "exit"}, nil)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("a program that dies without a reply: %v, want its exit status", err)
	}
}

func TestRunNotBuiltIn(t *testing.T) {
	_, err := Run("", Request{Op: OpPull}, nil)
	if err == nil || !strings.Contains(err.Error(), "built without it") {
		t.Errorf("Run with no program: %v", err)
	}
}

// Run by hand, the program says what it is for instead of waiting for a request.
func TestServeByHand(t *testing.T) {
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), testServe+"=1")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 125 {
		t.Fatalf("exit: %v, want status 125", err)
	}
	if !strings.Contains(string(out), "run by ccrun") {
		t.Errorf("output %q does not say who runs it", out)
	}
}
