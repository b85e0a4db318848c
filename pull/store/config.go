package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Config is the part of an image's config (OCI image-spec config.md; Docker's
// image JSON has the same field names) that says how to run it.
type Config struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
	Config       struct {
		User       string   `json:"User"`
		Env        []string `json:"Env"`
		Entrypoint []string `json:"Entrypoint"`
		Cmd        []string `json:"Cmd"`
		WorkingDir string   `json:"WorkingDir"`
	} `json:"config"`
}

// ImageConfig reads the config of image imageID (an id, a name or a unique id
// prefix, as Lookup takes them). containers/image stores it beside the image
// under its digest, which is also the image's id.
func (st *Store) ImageConfig(imageID string) (Config, error) {
	raw, err := st.imageConfig(imageID)
	if err != nil {
		return Config{}, fmt.Errorf("read config of image %.12s: %w", imageID, err)
	}
	c, err := ParseConfig(raw)
	if err != nil {
		return Config{}, fmt.Errorf("read config of image %.12s: %w", imageID, err)
	}
	return c, nil
}

// imageConfig reads the raw config of image imageID.
func (st *Store) imageConfig(imageID string) ([]byte, error) {
	ix, err := st.imageIndex()
	if err != nil {
		return nil, err
	}
	r, ok := ix.lookup(imageID)
	if !ok {
		return nil, ErrUnknownImage
	}
	return readBigData(st.paths.GraphRoot, r.ID, configKey(r.ID, r.BigDataNames))
}

// ParseConfig decodes an image config.
func ParseConfig(raw []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return Config{}, fmt.Errorf("parse image config: %w", err)
	}
	return c, nil
}

// configKey is the name the config is stored under: its digest, normally
// "sha256:<image id>"; else the one digest-named entry (manifests are stored as
// "manifest-...").
func configKey(id string, names []string) string {
	key := "sha256:" + id
	if slices.Contains(names, key) {
		return key
	}
	for _, k := range names {
		if strings.HasPrefix(k, "sha256:") {
			return k
		}
	}
	return key
}
