package pull

import (
	"os/exec"
	"strings"
	"testing"
)

// pull knows images and the store, not how containers are made: it must not
// import ccrun's other domain packages (cmd/ccrun composes them), nor the
// containers/image transports it does not use, whose init() every ccrun process
// would pay for.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-tags", "containers_image_openpgp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper",
		"-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	forbidden := []string{
		"github.com/ccrun/ccrun/overlay", "github.com/ccrun/ccrun/rootless", "github.com/ccrun/ccrun/uidmap",
		"github.com/ccrun/ccrun/cgroupv2",
		"go.podman.io/image/v5/transports/alltransports", "go.podman.io/image/v5/docker/daemon",
		"go.podman.io/image/v5/sif", "go.podman.io/image/v5/openshift", "go.podman.io/image/v5/tarball",
		"github.com/moby/moby/client",
	}
	for _, p := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if p == f {
				t.Errorf("pull depends on %s", p)
			}
		}
	}
}
