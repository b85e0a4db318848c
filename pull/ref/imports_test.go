package ref

import (
	"os/exec"
	"strings"
	"testing"
)

// ref exists to keep containers/image, distribution/reference and go-digest
// (and the regular expressions they compile at init) off ccrun's run path:
// it must depend on none of them, nor on regexp at all.
func TestImports(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command("go", "list", "-tags", "containers_image_openpgp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper",
		"-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{"go.podman.io/image", "github.com/distribution", "github.com/docker/distribution",
		"github.com/opencontainers/go-digest", "regexp"}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list printed no packages")
	}
	for _, p := range deps {
		for _, f := range forbidden {
			if p == f || strings.HasPrefix(p, f+"/") {
				t.Errorf("ref depends on %s", p)
			}
		}
	}
}
