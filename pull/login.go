package pull

import (
	"context"
	"errors"
	"fmt"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/types"
)

// ErrNotLoggedIn: logout found no credentials for the registry.
var ErrNotLoggedIn = errors.New("not logged in")

// Login checks username and password against registry (the /v2/ endpoint, with
// basic or bearer-token auth as the registry asks) and stores them in
// LoginFile. It returns the file written.
func Login(ctx context.Context, registry, username, password string, o Options) (string, error) {
	file := LoginFile(o.Auth)
	sys := o.systemContext("")
	sys.AuthFilePath = file
	if err := docker.CheckAuth(ctx, sys, username, password, registry); err != nil {
		return "", fmt.Errorf("log in to %s: %w", registry, err)
	}
	if _, err := config.SetCredentials(sys, registry, username, password); err != nil {
		return "", fmt.Errorf("log in to %s: store credentials in %s: %w", registry, file, err)
	}
	return file, nil
}

// Logout removes the credentials for registry from LoginFile.
func Logout(registry string, e Env) (string, error) {
	file := LoginFile(e)
	err := config.RemoveAuthentication(&types.SystemContext{AuthFilePath: file}, registry)
	if errors.Is(err, config.ErrNotLoggedIn) {
		err = ErrNotLoggedIn
	}
	if err != nil {
		return "", fmt.Errorf("log out of %s (%s): %w", registry, file, err)
	}
	return file, nil
}
