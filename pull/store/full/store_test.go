package full

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMappedIDs(t *testing.T) {
	f := filepath.Join(t.TempDir(), "uid_map")
	if err := os.WriteFile(f, []byte("         0       1000          1\n         1     100000      65536\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := mappedIDs(f); n != 65537 {
		t.Errorf("mappedIDs = %d, want 65537", n)
	}
}
