package overlay

import (
	"os/exec"
	"strings"
	"testing"
)

// overlay computes mount options and nothing else: it imports only the standard
// library, and no other part of ccrun (domain packages do not import each other;
// cmd/ccrun composes them).
func TestImportsOnlyTheStandardLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/ccrun/ccrun/overlay" {
			t.Errorf("overlay depends on %s", p)
		}
	}
}
