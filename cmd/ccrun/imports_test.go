package main

import (
	"os/exec"
	"strings"
	"testing"
)

// Go runs the init functions of every package linked in at each start of
// ccrun. containers/image's cost about 5 ms a start, containers/storage's
// about 1.7 ms, so both live in the pull program (cmd/ccrun-pull), which ccrun
// runs only to pull or to change the store: ccrun itself must link neither,
// nor go-digest, whose regular expressions are compiled at init.
func TestRunPathDoesNotLinkTheContainersLibraries(t *testing.T) {
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
		for _, f := range []string{"go.podman.io/", "github.com/opencontainers/go-digest", "github.com/distribution/reference", "github.com/ccrun/ccrun/pull\x00", "github.com/ccrun/ccrun/pull/store/full"} {
			if strings.HasPrefix(p+"\x00", f) {
				t.Errorf("ccrun depends on %s", p)
			}
		}
	}
}
