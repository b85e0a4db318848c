// Command ccrun-pull is the part of ccrun that copies images from registries and
// image archives into the store, lists and removes images, and stores registry
// credentials. It links containers/image and containers/storage, which ccrun
// itself does not: ccrun embeds this program and runs it only when it must
// (see pull/program). It is not meant to be run by hand.
package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"

	"github.com/sirupsen/logrus"
	"go.podman.io/image/v5/docker"
	"go.podman.io/storage/pkg/reexec"

	"github.com/ccrun/ccrun/pull"
	"github.com/ccrun/ccrun/pull/program"
	"github.com/ccrun/ccrun/pull/store/full"
)

func main() {
	// containers/storage re-executes this program to unpack layers in a chroot.
	if reexec.Init() {
		return
	}
	os.Exit(program.Serve(handle))
}

func handle(req program.Request) program.Reply {
	setupLogging(req.Debug, os.Stderr)
	ctx := context.Background()
	switch req.Op {
	case program.OpPull:
		return withStore(req, func(st *full.Store) program.Reply {
			id, err := pull.Image(ctx, st, req.Ref, options(req))
			return reply(program.Reply{ID: id}, err, req.Ref.Registry())
		})
	case program.OpCurrent:
		return withStore(req, func(st *full.Store) program.Reply {
			id, current, err := pull.Stored(ctx, st, req.Ref)
			return reply(program.Reply{ID: id, Current: current}, err, "")
		})
	case program.OpLogin:
		file, err := pull.Login(ctx, req.Registry, req.Username, req.Password, options(req))
		var denied docker.ErrUnauthorizedForCredentials
		if errors.As(err, &denied) {
			return program.Reply{Error: err.Error()} // a refused password needs no hint
		}
		return reply(program.Reply{File: file}, err, req.Registry)
	case program.OpImages:
		return withStore(req, func(st *full.Store) program.Reply {
			imgs, err := st.Images()
			return reply(program.Reply{Images: imgs}, err, "")
		})
	case program.OpRemove:
		return withStore(req, func(st *full.Store) program.Reply { return removeImages(st, req) })
	case program.OpPrune:
		return withStore(req, func(st *full.Store) program.Reply {
			deleted, err := st.Prune(req.All)
			r := reply(program.Reply{}, err, "")
			r.Deleted = deleted
			return r
		})
	case program.OpLogout:
		file, err := pull.Logout(req.Registry, authEnv(req))
		r := reply(program.Reply{File: file}, err, "")
		r.NotLoggedIn = errors.Is(err, pull.ErrNotLoggedIn)
		return r
	}
	return program.Reply{Error: "unknown operation " + req.Op}
}

// withStore opens the store the request names for f, and closes it.
func withStore(req program.Request, f func(*full.Store) program.Reply) program.Reply {
	st, err := full.Open(req.Store)
	if err != nil {
		return program.Reply{Error: err.Error()}
	}
	r := f(st)
	if err := st.Close(); err != nil && r.Error == "" {
		r.Error, r.Hint = err.Error(), ""
	}
	return r
}

// reply completes r with err and its hint, if any.
func reply(r program.Reply, err error, registry string) program.Reply {
	if err == nil {
		return r
	}
	return program.Reply{Error: err.Error(), Hint: pull.Hint(err, registry)}
}

func options(req program.Request) pull.Options {
	o := pull.Options{
		Platform:  req.Platform,
		Insecure:  req.Insecure,
		CertDir:   req.CertDir,
		Auth:      authEnv(req),
		UserAgent: req.UserAgent,
	}
	if !req.Quiet {
		o.Progress = os.Stderr
	}
	return o
}

func authEnv(req program.Request) pull.Env {
	return pull.Env{Rootless: req.Rootless, Getenv: os.Getenv}
}

// setupLogging logs as ccrun does: warnings only, everything with --debug;
// containers/storage and containers/image log through logrus.
func setupLogging(debug bool, w io.Writer) {
	level, lrLevel := slog.LevelWarn, logrus.WarnLevel
	if debug {
		level, lrLevel = slog.LevelDebug, logrus.DebugLevel
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})).With("stage", program.Name))
	logrus.SetOutput(w)
	logrus.SetLevel(lrLevel)
}
