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
	// File is the credentials file written (OpLogin, OpLogout).
	File string `json:"file,omitempty"`
	// Error is why the operation failed, Hint how to fix it when that is known.
	Error string `json:"error,omitempty"`
	Hint  string `json:"hint,omitempty"`
	// NotLoggedIn: OpLogout found no credentials to remove.
	NotLoggedIn bool `json:"notLoggedIn,omitempty"`
}
