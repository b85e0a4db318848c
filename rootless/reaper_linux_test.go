package rootless

import (
	"bytes"
	"io"
	"testing"
)

// The --init reaper is executed from a sealed memfd (see package child's tests)
// holding the small embedded program, not a copy of ccrun (30 MB, as long to
// copy as the rest of a run).
func TestSealedReaper(t *testing.T) {
	f, err := sealedReaper()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<30))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x7fELF")) {
		t.Fatalf("the memfd does not hold an executable: % x", b[:min(len(b), 8)])
	}
	if len(b) > 8<<20 {
		t.Errorf("the reaper is %d MiB: it should be the small cmd/ccrun-init", len(b)>>20)
	}
}
