package store

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.podman.io/storage/pkg/unshare"
)

// Rootless decides as containers/storage does, here and in a user namespace
// where this test binary runs again as root (unshare(1)).
func TestRootlessAgreesWithContainersStorage(t *testing.T) {
	if got, want := Rootless(), unshare.IsRootless(); got != want {
		t.Errorf("Rootless() = %v; containers/storage says %v", got, want)
	}
	if os.Getenv("CCRUN_TEST_ROOTLESS_CHILD") != "" {
		return
	}
	cmd := exec.Command("unshare", "-Ur", os.Args[0], "-test.run", "^TestRootlessAgreesWithContainersStorage$", "-test.v")
	cmd.Env = append(os.Environ(), "CCRUN_TEST_ROOTLESS_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Errorf("in a user namespace: %v\n%s", err, out)
	}
}
