# ccrun: a plain Makefile over go. `make` builds bin/ccrun; `make test` runs everything
# (it installs the test dependencies first and must run as root on Debian 12).
# Go from PATH, or where the official tarball installs it.
export PATH := $(PATH):/usr/local/go/bin
GO        ?= go
TAGS      := containers_image_openpgp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
GOBUILD_LD = CGO_ENABLED=0 $(GO) build -trimpath -tags '$(TAGS)' -ldflags
GOBUILD   := $(GOBUILD_LD) '$(LDFLAGS)'
# ccrun's own ELF entry point, on linux/amd64: there a rootless init makes its
# user namespace before Go starts (see rootless/entry_linux.go). Elsewhere, or
# built without it, ccrun uses Go's clone, which is slower.
ENTRY     := $(if $(filter linux/amd64,$(shell $(GO) env GOOS)/$(shell $(GO) env GOARCH)),-E ccrun_rt0_amd64_linux)
GOTEST    := CGO_ENABLED=1 $(GO) test -tags '$(TAGS)'
UNIT_PKGS  = $(shell $(GO) list -tags '$(TAGS)' ./... | grep -v '/integration$$')
TEST_USER ?= ccrun-test

# ccrun embeds two programs of its own, built first into the directory of the
# package that embeds each: the pull program (cmd/ccrun-pull, see pull/program)
# and the --init reaper (cmd/ccrun-init, see rootless/reaper).
PULL_PROGRAM   := cmd/ccrun/ccrun-pull
REAPER_PROGRAM := rootless/ccrun-init

.PHONY: all build programs deps demo test test-unit test-integration test-root test-rootless test-vm lint bench clean

all: build

build: programs
	$(GOBUILD_LD) '$(LDFLAGS) $(ENTRY)' -o bin/ccrun ./cmd/ccrun

programs:
	$(GOBUILD) -o $(PULL_PROGRAM) ./cmd/ccrun-pull
	$(GOBUILD) -o $(REAPER_PROGRAM) ./cmd/ccrun-init

# Installs the Debian packages the tests use and the unprivileged test user
# with /etc/subuid and /etc/subgid ranges. Idempotent; needs root.
deps:
	integration/setup/deps.sh $(TEST_USER)

# Runs a container as the unprivileged test user from a locally built busybox image.
demo: build
	integration/setup/demo.sh $(TEST_USER) $(CURDIR)/bin/ccrun

test: deps lint test-unit test-integration test-vm

test-unit: programs
	$(GOTEST) -race -count=1 $(UNIT_PKGS)

test-integration: test-root test-rootless

# The integration suite drives bin/ccrun as a user would: once as root, once as the
# unprivileged test user (same test binary, copied where that user can run it).
test-root: build
	CCRUN_BIN=$(CURDIR)/bin/ccrun $(GOTEST) -count=1 -timeout 20m ./integration/

# Rootless, twice: as built (with its entry point on linux/amd64), and as ccrun
# is without it (plain go build, other architectures), which makes the init
# with Go's clone (see rootless/entry_linux.go).
test-rootless: build
	CCRUN_INIT_CLONE=$(if $(ENTRY),entry,fork) integration/setup/as-user.sh $(TEST_USER) $(CURDIR)/bin/ccrun
	$(GOBUILD) -o bin/ccrun-goclone ./cmd/ccrun
	CCRUN_INIT_CLONE=fork integration/setup/as-user.sh $(TEST_USER) $(CURDIR)/bin/ccrun-goclone

test-vm: build
	integration/vm/test.sh

lint: programs
	$(GO) vet -tags '$(TAGS)' ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi

bench: build
	integration/bench/bench.sh

clean:
	rm -rf bin $(PULL_PROGRAM) $(REAPER_PROGRAM)
