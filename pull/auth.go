package pull

import (
	"path/filepath"
)

// Where credentials live. containers/image reads them per registry from a
// chain of files, but inside ccrun's user namespace its default first file
// would be root's (/run/containers/0/auth.json: the namespace's uid is 0), so
// ccrun names the files itself.

// Env is what the credential lookup needs to know about the caller.
type Env struct {
	Rootless bool
	Getenv   func(string) string
}

// AuthFiles are the files credentials are read from, in order:
// $REGISTRY_AUTH_FILE; $XDG_RUNTIME_DIR/containers/auth.json (root without one:
// /run/containers/0/auth.json); $XDG_CONFIG_HOME/containers/auth.json
// (~/.config/containers/auth.json); $DOCKER_CONFIG/config.json
// (~/.docker/config.json).
func AuthFiles(e Env) []string {
	var files []string
	if f := e.Getenv("REGISTRY_AUTH_FILE"); f != "" {
		files = append(files, f)
	}
	if rt := e.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(rt) {
		files = append(files, filepath.Join(rt, "containers", "auth.json"))
	} else if !e.Rootless {
		files = append(files, "/run/containers/0/auth.json")
	}
	home := e.Getenv("HOME")
	cfg := e.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(cfg) && filepath.IsAbs(home) {
		cfg = filepath.Join(home, ".config")
	}
	if filepath.IsAbs(cfg) {
		files = append(files, filepath.Join(cfg, "containers", "auth.json"))
	}
	if d := e.Getenv("DOCKER_CONFIG"); d != "" {
		files = append(files, filepath.Join(d, "config.json"))
	} else if filepath.IsAbs(home) {
		files = append(files, filepath.Join(home, ".docker", "config.json"))
	}
	return files
}

// LoginFile is the file `ccrun login` writes: the first of AuthFiles, which is
// podman's choice too ($XDG_RUNTIME_DIR's file is gone after a reboot; without a
// runtime directory a user's credentials go to ~/.config/containers/auth.json).
func LoginFile(e Env) string {
	files := AuthFiles(e)
	if len(files) == 0 {
		return ""
	}
	return files[0]
}
