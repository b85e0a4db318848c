package main

import (
	"os/exec"
	"strings"
	"testing"
)

// ccrun starts three times for a rootless run, and Go runs the init functions
// of every package linked in at each start. containers/image's cost about 5 ms
// a start, so it lives in the pull program (cmd/ccrun-pull), which ccrun runs
// only to pull: ccrun itself must not link it.
func TestRunPathDoesNotLinkContainersImage(t *testing.T) {
	out, err := exec.Command("go", "list", "-tags", "containers_image_openpgp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper",
		"-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list found only %d packages: %v", len(deps), deps)
	}
	for _, p := range deps {
		for _, f := range []string{"go.podman.io/image/", "github.com/distribution/reference", "github.com/ccrun/ccrun/pull\x00"} {
			if strings.HasPrefix(p+"\x00", f) {
				t.Errorf("ccrun depends on %s", p)
			}
		}
	}
}
