package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// Record is what ccrun keeps of a container, in <container dir>/container.json. It
// is written once, when the container is created (over the last one's, in a
// spare directory), and never changed: whether the container is running is not
// in it but in its liveness lock.
type Record struct {
	ID string `json:"id"`
	// ImageID is the image the container was made of; while the record exists,
	// rmi and image prune leave that image and its layers alone.
	ImageID string `json:"image_id"`
	// Image is the name it was run by, for display.
	Image   string    `json:"image,omitempty"`
	Created time.Time `json:"created"`
	// Remove: started with --rm, so deleted when it ends, also by the next ccrun
	// when its supervisor was killed (CleanDead).
	Remove bool `json:"autoremove,omitempty"`
}

// recordFile is the record's name in the container's directory.
const recordFile = "container.json"

// encode is the record's file content.
func (r Record) encode() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode record of container %.12s: %w", r.ID, err)
	}
	return append(b, '\n'), nil
}

// decodeRecord parses a record written for container id. A record that names
// another container, or no image, is as good as none.
func decodeRecord(id string, b []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("record of container %.12s: %w", id, err)
	}
	if r.ID != id || !isHex(r.ImageID) {
		return nil, fmt.Errorf("record of container %.12s: names container %.12s of image %.12q", id, r.ID, r.ImageID)
	}
	return &r, nil
}
