package store

import (
	"strings"
	"testing"
	"time"
)

func TestRecord(t *testing.T) {
	id, img := strings.Repeat("a", 64), strings.Repeat("b", 64)
	rec := Record{ID: id, ImageID: img, Image: "localhost/bb:1", Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Remove: true}
	b, err := rec.encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRecord(id, b)
	if err != nil || *got != rec {
		t.Errorf("decode(encode(r)) = %+v, %v; want %+v", got, err, rec)
	}
	bad := map[string]string{
		"not JSON":             `{"id":`,
		"another container":    `{"id":"` + strings.Repeat("c", 64) + `","image_id":"` + img + `"}`,
		"no image":             `{"id":"` + id + `"}`,
		"an image id to climb": `{"id":"` + id + `","image_id":"../x"}`,
	}
	for name, content := range bad {
		if r, err := decodeRecord(id, []byte(content)); err == nil {
			t.Errorf("%s: decoded as %+v, want an error", name, r)
		}
	}
}
