// Package integration drives the built ccrun binary as a user would: the same suite
// runs as root (`make test-root`) and as an unprivileged user with subordinate ids
// (`make test-rootless`, via setup/as-user.sh). CCRUN_BIN names the binary; without
// it the suite builds one from this source tree.
package integration
