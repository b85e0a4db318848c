package program

import (
	"github.com/ccrun/ccrun/pull/ref"
	"github.com/ccrun/ccrun/pull/store"
)

// What ccrun asks of the program.
const (
	// OpPull copies Ref into the store and replies with its image id.
	OpPull = "pull"
	// OpCurrent replies whether the store's image of a local source (oci:,
	// docker-archive:) is the one the source holds now, and its id.
	OpCurrent = "current"
	// OpLogin checks Username and Password against Registry and stores them.
	OpLogin = "login"
	// OpLogout removes the stored credentials for Registry.
	OpLogout = "logout"
	// OpImages replies with the store's images and their sizes (ccrun images).
	OpImages = "images"
	// OpRemove removes the Images named, or with All every image (ccrun rmi),
	// and replies with what it removed.
	OpRemove = "rmi"
	// OpPrune deletes the dangling images, or with All every image no
	// container uses, then the layers no image uses (ccrun image prune).
	OpPrune = "prune"
)

// Request is one operation and everything it needs: the program reads no flags.
type Request struct {
	Op    string      `json:"op"`
	Store store.Paths `json:"store"`
	Ref   ref.Ref     `json:"ref"`
	// Platform chooses an image of a manifest list; zero means this machine's.
	Platform ref.Platform `json:"platform"`
	// Insecure skips TLS verification and allows plain HTTP (--tls-verify=false).
	Insecure bool `json:"insecure,omitempty"`
	// CertDir replaces the certs.d lookup (--cert-dir).
	CertDir string `json:"certDir,omitempty"`
	// Quiet: no progress on stderr.
	Quiet bool `json:"quiet,omitempty"`
	// Rootless: the caller is an ordinary user (it decides where credentials are).
	Rootless  bool   `json:"rootless,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	Debug     bool   `json:"debug,omitempty"`

	// Images are the images to remove as the user named them: names, ids or
	// unique id prefixes (OpRemove).
	Images []string `json:"images,omitempty"`
	// All: every image (OpRemove), every unused one (OpPrune).
	All bool `json:"all,omitempty"`
	// Force: also remove stopped containers of the images, and an image with
	// several names given by id (OpRemove).
	Force bool `json:"force,omitempty"`

	Registry string `json:"registry,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// Reply is the outcome of a Request.
type Reply struct {
	// ID is the image's id (OpPull, OpCurrent).
	ID string `json:"id,omitempty"`
	// Current: the stored image is the source's current one (OpCurrent).
	Current bool `json:"current,omitempty"`
	// Images are the store's images, newest first (OpImages).
	Images []store.Image `json:"images,omitempty"`
	// Removals say what OpRemove did, image by image, in the order given.
	Removals []store.Removal `json:"removals,omitempty"`
	// Deleted are the ids of the images OpPrune deleted.
	Deleted []string `json:"deleted,omitempty"`
	// File is the credentials file written (OpLogin, OpLogout).
	File string `json:"file,omitempty"`
	// Error is why the operation failed, Hint how to fix it when that is known.
	Error string `json:"error,omitempty"`
	Hint  string `json:"hint,omitempty"`
	// NotLoggedIn: OpLogout found no credentials to remove.
	NotLoggedIn bool `json:"notLoggedIn,omitempty"`
}
