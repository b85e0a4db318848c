package main

import (
	_ "embed"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/ccrun/ccrun/pull/program"
	"github.com/ccrun/ccrun/pull/ref"
	"github.com/ccrun/ccrun/pull/store"
)

var pullCommand = &command{
	Name:  "pull",
	Usage: "pull [flags] IMAGE",
	Short: "Copy an image into the local store",
	Long: `IMAGE is a registry reference, normalised as docker does (busybox is
docker.io/library/busybox:latest; a registry host has a dot or a port, or is localhost),
by tag or by digest; or a local source: oci:DIR[:TAG] (an OCI image layout) or
docker-archive:FILE[:NAME:TAG] (a 'docker save' tarball), stored as localhost/DIR:TAG
or localhost/FILE:latest (without .tar, .tar.gz, .tgz), or, for an archive's image
picked by the name docker saved it as, under that name (alpine:3.19 is
docker.io/library/alpine:3.19).
A manifest list resolves to this machine's platform unless --platform says another.
Layers already in the store are not fetched again; every blob is checked against its
digest. Progress goes to stderr (bars on a terminal); the image id to stdout.

Credentials come from $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
~/.config/containers/auth.json and ~/.docker/config.json (see 'ccrun login'); CA
certificates from certs.d directories (~/.config/containers/certs.d/HOST:PORT/ca.crt,
/etc/containers/certs.d, /etc/docker/certs.d) or --cert-dir; mirrors from
registries.conf when there is one.

Examples:
  ccrun pull busybox
  ccrun pull --platform linux/arm64 registry.example.com:5000/team/tool:1.2
  ccrun pull -q alpine@sha256:<digest>
  ccrun pull oci:./busybox-oci:latest`,
	UserNS:       true,
	Interspersed: true,
	Flags:        pullFlags,
}

// pullSettings are the flags pull, run and login share.
type pullSettings struct {
	quiet     bool
	platform  string
	tlsVerify bool
	certDir   string
}

func (p *pullSettings) declare(fs *pflag.FlagSet, quiet bool) {
	if quiet {
		fs.BoolVarP(&p.quiet, "quiet", "q", false, "no progress output")
	}
	fs.StringVar(&p.platform, "platform", "", "choose the `os/arch[/variant]` of a multi-platform image")
	fs.BoolVar(&p.tlsVerify, "tls-verify", true, "require HTTPS and verify the registry's certificate")
	fs.StringVar(&p.certDir, "cert-dir", "", "`directory` of CA certificates (*.crt) and client keys for the registry")
}

func pullFlags(fs *pflag.FlagSet) func(*globals, []string) error {
	var p pullSettings
	p.declare(fs, true)
	return func(g *globals, args []string) error {
		if len(args) != 1 {
			return usagef("pull takes one image")
		}
		r, err := ref.Parse(args[0])
		if err != nil {
			return err
		}
		// Opened here for its checks, and so that its errors come with hints.
		st, err := openStore(g)
		if err != nil {
			return err
		}
		id, err := pullImage(g, &p, st.Paths(), r)
		if err != nil {
			return err
		}
		fmt.Println(id)
		return nil
	}
}

// request is a request to the pull program with the flags' settings.
func (p *pullSettings) request(g *globals, op string) (program.Request, error) {
	req := program.Request{
		Op:        op,
		Insecure:  !p.tlsVerify,
		CertDir:   p.certDir,
		Quiet:     p.quiet,
		Rootless:  rootlessMode(),
		UserAgent: "ccrun/" + version,
		Debug:     g.Debug,
	}
	if p.platform != "" {
		pl, err := ref.ParsePlatform(p.platform)
		if err != nil {
			return req, usagef("--platform: %v", err)
		}
		req.Platform = pl
	}
	return req, nil
}

// pullImage pulls r into the store at paths, and returns the image's id.
func pullImage(g *globals, p *pullSettings, paths store.Paths, r ref.Ref) (string, error) {
	req, err := p.request(g, program.OpPull)
	if err != nil {
		return "", err
	}
	req.Store, req.Ref = paths, r
	reply, err := runProgram(g, req)
	return reply.ID, err
}

// pullProgram is cmd/ccrun-pull, which the Makefile builds before ccrun.
//
//go:embed ccrun-pull
var pullProgram string

// runProgram runs the pull program (see pull/program) on req, in a user
// namespace of its own when this process is a rootless run (see
// globals.childIDs). A failure it reports becomes an error with its hint.
func runProgram(g *globals, req program.Request) (program.Reply, error) {
	ns, err := g.programNS()
	if err != nil {
		return program.Reply{}, err
	}
	reply, err := program.Run(pullProgram, req, ns)
	if err != nil {
		return reply, err
	}
	if reply.Error == "" {
		return reply, nil
	}
	err = errors.New(reply.Error)
	if reply.Hint != "" {
		err = withHint(err, reply.Hint)
	}
	return reply, err
}

// openStore opens the image store where the global flags, or the defaults for
// this user, say it is, with ccrun's own reader (package store): what needs
// containers/storage is the pull program's (see storeRequest).
func openStore(g *globals) (*store.Store, error) {
	p, err := store.DefaultPaths(store.Env{Rootless: rootlessMode(), UID: hostUID(), Getenv: os.Getenv})
	if err == nil {
		p, err = p.Override(g.Root, g.RunRoot)
	}
	if err != nil {
		return nil, err
	}
	st, err := store.Open(p)
	if store.IsNotPrivate(err) {
		return nil, withHint(err, "another user may have planted it: remove it, or set XDG_RUNTIME_DIR or --runroot to a directory of your own")
	}
	return st, err
}

// storeRequest is a request for op to the pull program, on the store the
// global flags name (opened first for its checks, as openStore does).
func storeRequest(g *globals, op string) (program.Request, error) {
	st, err := openStore(g)
	if err != nil {
		return program.Request{}, err
	}
	return program.Request{Op: op, Store: st.Paths(), Rootless: rootlessMode(), Debug: g.Debug}, nil
}
