// Package ocitest builds container images for tests, with no docker and no
// network: layer tarballs from lists of files (hostile ones included), image
// configs, manifests and multi-platform indexes, written as OCI image layouts
// (image-spec image-layout.md) that ccrun can pull with oci:DIR:TAG, or a test
// can push to a registry.
//
// An image in the layout is a tree of content-addressed blobs:
//
//	index.json ──> manifest ──> config  (entrypoint, env, ..., the layers' diff ids)
//	     │             └──────> layer, layer, ...  (tar, gzip'd or zstd'd)
//	     └──> index (multi-platform) ──> manifest per platform
//
// Every arrow is a descriptor: media type, size and sha256 digest of the target.
package ocitest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"go.podman.io/image/v5/pkg/compression"
)

// Media types of the OCI image spec.
const (
	MediaManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaIndex    = "application/vnd.oci.image.index.v1+json"
	MediaConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTar      = "application/vnd.oci.image.layer.v1.tar"
	MediaTarGzip  = "application/vnd.oci.image.layer.v1.tar+gzip"
	MediaTarZstd  = "application/vnd.oci.image.layer.v1.tar+zstd"
)

// File is one tar entry.
type File struct {
	Name string
	// Type is a tar type flag; 0 means a regular file (tar.TypeReg).
	Type     byte
	Mode     int64 // permission bits, with setuid/setgid/sticky (04000, 02000, 01000)
	Content  string
	Linkname string // symlink target, or hard link's existing entry
	UID, GID int
	// Major and Minor are a device node's numbers.
	Major, Minor int64
}

// Dir is a directory entry (0755).
func Dir(name string) File { return File{Name: name, Type: tar.TypeDir, Mode: 0o755} }

// Reg is a regular file entry (0644).
func Reg(name, content string) File { return File{Name: name, Mode: 0o644, Content: content} }

// Symlink is a symbolic link entry.
func Symlink(name, target string) File {
	return File{Name: name, Type: tar.TypeSymlink, Linkname: target, Mode: 0o777}
}

// Hardlink is a hard link entry to an earlier entry, target.
func Hardlink(name, target string) File {
	return File{Name: name, Type: tar.TypeLink, Linkname: target, Mode: 0o644}
}

// Whiteout deletes path (a file or a directory) of the layers below.
func Whiteout(path string) File {
	return Reg(filepath.Join(filepath.Dir(path), ".wh."+filepath.Base(path)), "")
}

// Opaque makes directory dir hide everything the layers below have in it.
func Opaque(dir string) File { return Reg(filepath.Join(dir, ".wh..wh..opq"), "") }

// Layer is a layer's content. Compression is "gzip" (the default), "zstd" or
// "none".
type Layer struct {
	Files       []File
	Compression string
}

// Config is the part of an image config tests set.
type Config struct {
	Architecture, OS, Variant string
	Entrypoint, Cmd, Env      []string
	WorkingDir, User          string
}

// Image is an image to write.
type Image struct {
	Layers []Layer
	Config Config
}

// Descriptor points at a blob (image-spec descriptor.md).
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    *Platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Platform is a manifest's platform in an index.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

// Layout is an OCI image layout directory being written.
type Layout struct{ Dir string }

// NewLayout creates the layout's skeleton in dir.
func NewLayout(dir string) (*Layout, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return nil, err
	}
	return &Layout{Dir: dir}, nil
}

// Blob stores data under its digest and returns its descriptor.
func (l *Layout) Blob(mediaType string, data []byte) (Descriptor, error) {
	sum := sha256.Sum256(data)
	d := Descriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(data))}
	return d, os.WriteFile(l.BlobPath(d), data, 0o644)
}

// BlobPath is where a blob is stored.
func (l *Layout) BlobPath(d Descriptor) string {
	return filepath.Join(l.Dir, "blobs", "sha256", d.Digest[len("sha256:"):])
}

// JSON stores v, marshalled, as a blob.
func (l *Layout) JSON(mediaType string, v any) (Descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Descriptor{}, err
	}
	return l.Blob(mediaType, b)
}

// Image writes an image's layers, config and manifest, and returns the
// manifest's descriptor (with the image's platform).
func (l *Layout) Image(im Image) (Descriptor, error) {
	var layers []Descriptor
	var diffIDs []string
	for _, ly := range im.Layers {
		d, diffID, err := l.layer(ly)
		if err != nil {
			return Descriptor{}, err
		}
		layers = append(layers, d)
		diffIDs = append(diffIDs, diffID)
	}
	cfg := im.Config
	if cfg.Architecture == "" {
		cfg.Architecture = runtime.GOARCH
	}
	if cfg.OS == "" {
		cfg.OS = "linux"
	}
	config, err := l.JSON(MediaConfig, configJSON(cfg, diffIDs))
	if err != nil {
		return Descriptor{}, err
	}
	m, err := l.JSON(MediaManifest, map[string]any{
		"schemaVersion": 2, "mediaType": MediaManifest, "config": config, "layers": layers,
	})
	m.Platform = &Platform{Architecture: cfg.Architecture, OS: cfg.OS, Variant: cfg.Variant}
	return m, err
}

func configJSON(c Config, diffIDs []string) map[string]any {
	return map[string]any{
		"created":      time.Now().UTC().Format(time.RFC3339),
		"architecture": c.Architecture, "os": c.OS, "variant": c.Variant,
		"config": map[string]any{
			"Entrypoint": c.Entrypoint, "Cmd": c.Cmd, "Env": c.Env,
			"WorkingDir": c.WorkingDir, "User": c.User,
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	}
}

// layer writes a layer blob and returns it with its diff id (the digest of the
// uncompressed tar).
func (l *Layout) layer(ly Layer) (Descriptor, string, error) {
	raw, err := Tar(ly.Files)
	if err != nil {
		return Descriptor{}, "", err
	}
	sum := sha256.Sum256(raw)
	diffID := "sha256:" + hex.EncodeToString(sum[:])
	data, media, err := compress(raw, ly.Compression)
	if err != nil {
		return Descriptor{}, "", err
	}
	d, err := l.Blob(media, data)
	return d, diffID, err
}

func compress(raw []byte, how string) ([]byte, string, error) {
	algo, media := compression.Gzip, MediaTarGzip
	switch how {
	case "none":
		return raw, MediaTar, nil
	case "zstd":
		algo, media = compression.Zstd, MediaTarZstd
	case "", "gzip":
	default:
		return nil, "", fmt.Errorf("unknown compression %q", how)
	}
	var buf bytes.Buffer
	w, err := compression.CompressStream(&buf, algo, nil)
	if err != nil {
		return nil, "", err
	}
	if _, err := w.Write(raw); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), media, nil
}

// Tar makes a tar archive of files, in order, exactly as given: names are not
// cleaned, so tests can write hostile ones.
func Tar(files []File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{
			Name: f.Name, Typeflag: f.Type, Mode: f.Mode, Linkname: f.Linkname,
			Uid: f.UID, Gid: f.GID, Devmajor: f.Major, Devminor: f.Minor,
			ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX,
		}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(f.Content))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar %s: %w", f.Name, err)
		}
		if _, err := io.WriteString(tw, f.Content); err != nil && h.Size > 0 {
			return nil, fmt.Errorf("tar %s: %w", f.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Tag points index.json's tag at manifests: one manifest is tagged as itself,
// several become a multi-platform index first.
func (l *Layout) Tag(tag string, manifests ...Descriptor) (Descriptor, error) {
	top := manifests[0]
	if len(manifests) > 1 {
		var err error
		top, err = l.JSON(MediaIndex, map[string]any{"schemaVersion": 2, "mediaType": MediaIndex, "manifests": manifests})
		if err != nil {
			return Descriptor{}, err
		}
	}
	top.Annotations = map[string]string{"org.opencontainers.image.ref.name": tag}
	idx, err := l.index()
	if err != nil {
		return Descriptor{}, err
	}
	idx = append(idx, top)
	b, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": MediaIndex, "manifests": idx})
	if err != nil {
		return Descriptor{}, err
	}
	return top, os.WriteFile(filepath.Join(l.Dir, "index.json"), b, 0o644)
}

func (l *Layout) index() ([]Descriptor, error) {
	b, err := os.ReadFile(filepath.Join(l.Dir, "index.json"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var idx struct{ Manifests []Descriptor }
	return idx.Manifests, json.Unmarshal(b, &idx)
}

// Write writes im into a layout at dir, tagged tag: the usual one-liner.
func Write(dir, tag string, im Image) error {
	l, err := NewLayout(dir)
	if err != nil {
		return err
	}
	m, err := l.Image(im)
	if err != nil {
		return err
	}
	_, err = l.Tag(tag, m)
	return err
}
