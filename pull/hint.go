package pull

import (
	"encoding/json"
	"errors"
	"strings"

	"go.podman.io/image/v5/docker"
)

// Hint suggests a fix for a pull or login error, or returns "".
func Hint(err error, registry string) string {
	var unauthorized docker.ErrUnauthorizedForCredentials
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case errors.As(err, &syntax), errors.As(err, &typeErr):
		return "the source sent a malformed manifest or config (not valid JSON of the right shape): it is broken, or not a registry"
	case errors.As(err, &unauthorized), strings.Contains(msg, "unauthorized"), strings.Contains(msg, "authentication required"):
		return "log in first: ccrun login " + registry
	case strings.Contains(msg, "x509:"), strings.Contains(msg, "tls: failed to verify"):
		return "trust the registry's CA: put it in ~/.config/containers/certs.d/" + registry +
			"/ca.crt (root: /etc/containers/certs.d/" + registry + "/ca.crt); for a test registry, --tls-verify=false"
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return "the registry speaks plain HTTP: use --tls-verify=false"
	}
	return ""
}
