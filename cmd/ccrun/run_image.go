package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/ccrun/ccrun/overlay"
	"github.com/ccrun/ccrun/pull/program"
	"github.com/ccrun/ccrun/pull/ref"
	"github.com/ccrun/ccrun/pull/store"
	"github.com/ccrun/ccrun/rootless"
)

// imageContainerInfo is a container made from an image, ready to start.
type imageContainerInfo struct {
	// Overlay is the root, which the init mounts itself inside the container's
	// mount namespace.
	Overlay *rootless.OverlayRoot
	Config  imageConfig
	// Release drops the container's liveness lock; with remove it deletes the
	// container's directory.
	Release func(remove bool) error
}

// imageConfig is how the image says to run it.
type imageConfig struct {
	Entrypoint, Cmd, Env []string
	WorkingDir, User     string
}

// imageContainer finds (pulling as --pull says) the image of `ccrun run`, and
// creates container id of it: a directory of ccrun's with its own upper and work
// directories over the image's shared layers, and the overlay mount the init
// will make of them. It first deletes the --rm containers whose ccrun was killed.
//
// The store is read by ccrun itself, without containers/storage (see package
// store): a run only reads it, in the process you started, outside any user
// namespace; a pull is the pull program's. A container directory that
// holds what only a user namespace's root can delete is deleted from one.
func imageContainer(g *globals, o *runOptions, id string) (*imageContainerInfo, error) {
	st, err := openStore(g)
	if err != nil {
		return nil, err
	}
	ids, err := g.childIDs(os.Stderr)
	if err != nil {
		return nil, err
	}
	if ids != nil {
		st.RemoveWith(func(dir string) error { return rootless.RemoveAll(dir, ids.Write) })
	}
	return createFromImage(g, st, o, id)
}

// createFromImage is imageContainer on an open store.
func createFromImage(g *globals, st *store.Store, o *runOptions, id string) (*imageContainerInfo, error) {
	if err := st.CleanDead(); err != nil {
		slog.Warn("remove containers of killed runs", "err", err)
	}
	img, name, err := runImage(g, st, o)
	if err != nil {
		return nil, err
	}
	cfg, err := st.ImageConfig(img.ID)
	if err != nil {
		return nil, err
	}
	c, err := st.CreateContainer(id, img.ID, name, o.rm)
	if err != nil {
		return nil, err
	}
	r := overlayRoot(c)
	r.Volatile = o.rm
	m, err := overlay.Plan(r)
	if err != nil {
		return nil, errors.Join(err, c.Release(true))
	}
	slog.Debug("container", "id", id, "image", img.ID, "layers", len(c.Layers), "upper", c.Upper)
	ov := &rootless.OverlayRoot{Options: m.Options, Chdir: m.Chdir, Target: m.Target}
	if c.ChownUpper {
		ov.Chown = &rootless.Chown{Path: c.Upper, Like: c.Layers[0].Dir}
	}
	return &imageContainerInfo{
		Overlay: ov,
		Config: imageConfig{Entrypoint: cfg.Config.Entrypoint, Cmd: cfg.Config.Cmd, Env: cfg.Config.Env,
			WorkingDir: cfg.Config.WorkingDir, User: cfg.Config.User},
		Release: c.Release,
	}, nil
}

// overlayRoot describes a container's directories to package overlay.
func overlayRoot(c *store.Container) overlay.Root {
	r := overlay.Root{Home: c.Home, Upper: c.Upper, Work: c.Work, Target: c.Target, UserXattr: store.Rootless()}
	for _, l := range c.Layers {
		r.Lower = append(r.Lower, overlay.Layer{Dir: l.Dir, Short: l.Short})
	}
	return r
}

// runImage finds the image to run, pulling it as --pull says: missing (when
// the store has no image of that name, or not for --platform), always, or
// never. A local source (oci:, docker-archive:) counts as missing when the
// store's copy is not the source's current manifest. Pulls, and that check, are
// the pull program's (see pull/program); an image in the store costs no more
// than a lookup. It returns the image and the name it was found by.
func runImage(g *globals, st *store.Store, o *runOptions) (*store.Image, string, error) {
	if ref.LooksLikeID(o.image) {
		if img, err := st.Lookup(o.image); err == nil {
			return img, img.ID, nil
		}
	}
	r, err := ref.Parse(o.image)
	if err != nil {
		return nil, "", err
	}
	p := pullSettings{quiet: o.quiet, platform: o.platform, tlsVerify: o.tlsVerify}
	if o.pull != "always" {
		img, err := storedImage(g, &p, st, r, o)
		if img != nil || err != nil {
			return img, r.StoreName(), err
		}
	}
	id, err := pullImage(g, &p, st.Paths(), r)
	if err != nil {
		return nil, "", err
	}
	img, err := st.Lookup(id)
	return img, r.StoreName(), err
}

// storedImage returns the stored image r names when it is fit to run, nil
// when it must be pulled, and an error when it is missing under --pull=never.
// A local source's image is fit when it is the source's current one and for the
// platform --platform asks for (one index, several platforms: one stored name).
func storedImage(g *globals, p *pullSettings, st *store.Store, r ref.Ref, o *runOptions) (*store.Image, error) {
	if r.Local() && o.pull == "missing" {
		if id, ok := ref.ArchiveImageID(r); ok {
			img, err := st.Lookup(r.StoreName())
			switch {
			case err == nil && img.ID == id && platformMatches(st, img, o.platform):
				return img, nil
			case err == nil || errors.Is(err, store.ErrUnknownImage):
				return nil, nil // not the archive's image, or none: pull
			}
			return nil, err
		}
		if d, ok := ref.LayoutDigest(r); ok {
			img, err := st.Lookup(r.StoreName())
			switch {
			case err == nil && slices.Contains(img.Digests, d) && platformMatches(st, img, o.platform):
				return img, nil
			case err == nil || errors.Is(err, store.ErrUnknownImage):
				return nil, nil // not the layout's current image, or none: pull
			}
			return nil, err
		}
		req, err := p.request(g, program.OpCurrent)
		if err != nil {
			return nil, err
		}
		req.Store, req.Ref = st.Paths(), r
		reply, err := runProgram(g, req)
		if err != nil || !reply.Current {
			return nil, err
		}
		img, err := st.Lookup(reply.ID)
		if err != nil || !platformMatches(st, img, o.platform) {
			return nil, err
		}
		return img, nil
	}
	img, err := st.Lookup(r.StoreName())
	switch {
	case err == nil && platformMatches(st, img, o.platform):
		return img, nil
	case o.pull == "missing" && (err == nil || errors.Is(err, store.ErrUnknownImage)):
		return nil, nil
	case err == nil:
		err = fmt.Errorf("image %s is not for platform %s", r.StoreName(), o.platform)
	}
	return nil, withHint(fmt.Errorf("%w (--pull=%s)", err, o.pull), "pull it first: ccrun pull "+o.image)
}

// platformMatches reports whether img is for the platform --platform asks for
// (any image matches when it asks for none).
func platformMatches(st *store.Store, img *store.Image, platform string) bool {
	if platform == "" {
		return true
	}
	want, err := ref.ParsePlatform(platform)
	if err != nil {
		return false
	}
	cfg, err := st.ImageConfig(img.ID)
	return err == nil && cfg.OS == want.OS && cfg.Architecture == want.Architecture &&
		(want.Variant == "" || cfg.Variant == want.Variant)
}

// mergeProcess computes the container's command line, environment, working
// directory and user from the image's config and the flags of `ccrun run`, by
// docker's rules:
//
//   - the command is ENTRYPOINT + CMD; arguments after the image replace CMD;
//     --entrypoint replaces ENTRYPOINT and drops the image's CMD ("" clears it);
//   - the environment is the image's, then -e and --env-file, a later value of
//     a name replacing the earlier one in place;
//   - -w replaces WORKDIR, which is taken from / when relative; default /;
//   - -u replaces USER. Names are looked up later by the init, in the
//     container's own /etc/passwd and /etc/group.
//
// The image is untrusted: a NUL byte anywhere, or a user spec that is not
// user[:group], is refused here, before anything runs.
func mergeProcess(cfg imageConfig, o *runOptions) (args, env []string, cwd, user string, err error) {
	args = mergeArgs(cfg, o)
	if len(args) == 0 {
		return nil, nil, "", "", withHint(errors.New("no command: the image has no entrypoint or cmd"),
			"give the command after the image name: ccrun run IMAGE COMMAND [ARG...]")
	}
	env = mergeEnv(cfg.Env, o.env)
	if cwd, err = mergeWorkdir(cfg.WorkingDir, o.workdir); err != nil {
		return nil, nil, "", "", err
	}
	user = cfg.User
	if o.user != "" {
		user = o.user
	}
	if err := checkUser(user); err != nil {
		return nil, nil, "", "", err
	}
	if err := checkNoNUL(args, env, cwd); err != nil {
		return nil, nil, "", "", err
	}
	return args, env, cwd, user, nil
}

func mergeArgs(cfg imageConfig, o *runOptions) []string {
	entrypoint, cmd := cfg.Entrypoint, cfg.Cmd
	if o.entrypoint != nil {
		entrypoint, cmd = nil, nil
		if *o.entrypoint != "" {
			entrypoint = []string{*o.entrypoint}
		}
	}
	if len(o.args) > 0 {
		cmd = o.args
	}
	return append(append([]string{}, entrypoint...), cmd...)
}

// mergeEnv applies overrides (KEY=VALUE) to base: a key already present is
// replaced where it stands, a new one is appended. Entries of base without "="
// are dropped, as execve(2) would pass them meaninglessly.
func mergeEnv(base, overrides []string) []string {
	out := []string{}
	at := map[string]int{}
	for _, kv := range append(append([]string{}, base...), overrides...) {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		if i, seen := at[k]; seen {
			out[i] = kv
			continue
		}
		at[k] = len(out)
		out = append(out, kv)
	}
	return out
}

func mergeWorkdir(image, flag string) (string, error) {
	if flag != "" {
		if !path.IsAbs(flag) {
			return "", usagef("-w %s: the working directory must be an absolute path", flag)
		}
		return path.Clean(flag), nil
	}
	if image == "" {
		return "/", nil
	}
	return path.Clean("/" + image), nil
}

// checkUser accepts user[:group], each a name or a number, the shape the init
// resolves.
func checkUser(u string) error {
	if u == "" {
		return nil
	}
	name, group, _ := strings.Cut(u, ":")
	for _, part := range []string{name, group} {
		if strings.ContainsAny(part, ":/\x00\n") || len(part) > 256 {
			return fmt.Errorf("user %q: want user[:group], names or numeric ids", u)
		}
	}
	if name == "" {
		return fmt.Errorf("user %q: no user name or id", u)
	}
	return nil
}

func checkNoNUL(args, env []string, cwd string) error {
	for _, s := range append(append(append([]string{}, args...), env...), cwd) {
		if strings.ContainsRune(s, 0) {
			return fmt.Errorf("image config: %q holds a NUL byte", s)
		}
	}
	return nil
}
