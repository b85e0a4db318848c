package overlay

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// PageSize is the limit of mount(2)'s data argument on the machines ccrun runs on
// (the kernel copies one page of it).
const PageSize = 4096

// maxParam is the longest value fsconfig(2) accepts for FSCONFIG_SET_STRING (it
// copies at most 256 bytes, the terminating NUL included).
const maxParam = 255

// Layer is one read-only lower directory.
type Layer struct {
	// Dir is the layer's directory, absolute.
	Dir string
	// Short, when set, is a shorter path to the same directory relative to
	// Root.Home (containers/storage keeps one as l/XXXXXXXXXXXXXXXXXXXXXXXXXX).
	Short string
}

// Root is a container's root filesystem as directories.
type Root struct {
	// Home is the directory relative paths are relative to: the mounter chdirs
	// there before mounting when the absolute paths do not fit.
	Home string
	// Lower are the image's layers, the newest (top) first.
	Lower []Layer
	// Upper and Work are the container's own writable directories, on one
	// filesystem; Target is the directory to mount on.
	Upper, Work, Target string
	// UserXattr: the mount happens inside a user namespace (rootless), so
	// overlayfs must keep its metadata in user.overlay.* xattrs.
	UserXattr bool
	// Volatile skips overlayfs's sync of the upper directory when the mount goes
	// away (Linux 5.10, "volatile" in the kernel's overlayfs.rst). Only for a
	// container that is removed when it exits: after a crash a volatile upper
	// directory is refused for good, which does not matter for a --rm container.
	Volatile bool
}

// Mount is an overlay mount, ready for the mounter.
type Mount struct {
	// Options is the data for mount(2):
	// lowerdir=A:B,upperdir=U,workdir=W[,userxattr].
	Options string
	// Params are the same settings for fsconfig(2), one lower directory each
	// (lowerdir+=A, lowerdir+=B, ...; kernel 6.8+).
	Params []string
	// Chdir, when set, is the directory the relative paths are relative to.
	Chdir  string
	Target string
}

// Plan computes the overlay mount for r. It uses absolute paths when they fit
// within the kernel's limits, and short paths relative to r.Home otherwise.
func Plan(r Root) (Mount, error) {
	if err := r.check(); err != nil {
		return Mount{}, err
	}
	if m := r.build(r.absolute()); m.fits() == nil {
		return m, nil
	}
	rel, err := r.relative()
	if err != nil {
		return Mount{}, err
	}
	m := r.build(rel)
	m.Chdir = r.Home
	if err := m.fits(); err != nil {
		return Mount{}, fmt.Errorf("plan overlay of %d layers: %w", len(r.Lower), err)
	}
	return m, nil
}

// paths are the directories as they will appear in the mount data.
type paths struct {
	lower       []string
	upper, work string
}

func (r Root) check() error {
	if len(r.Lower) == 0 {
		return errors.New("plan overlay: an image needs at least one layer")
	}
	for _, p := range append(r.dirs(), r.Target, r.Home) {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("plan overlay: path %q is not absolute", p)
		}
	}
	return nil
}

// dirs are all directories that appear in the mount data.
func (r Root) dirs() []string {
	d := []string{r.Upper, r.Work}
	for _, l := range r.Lower {
		d = append(d, l.Dir)
	}
	return d
}

func (r Root) absolute() paths {
	p := paths{upper: r.Upper, work: r.Work}
	for _, l := range r.Lower {
		p.lower = append(p.lower, l.Dir)
	}
	return p
}

// relative rewrites every directory relative to r.Home, preferring a layer's
// short alias.
func (r Root) relative() (paths, error) {
	var p paths
	var err error
	if p.upper, err = r.rel(r.Upper); err != nil {
		return paths{}, err
	}
	if p.work, err = r.rel(r.Work); err != nil {
		return paths{}, err
	}
	for _, l := range r.Lower {
		s := l.Short
		if s == "" {
			if s, err = r.rel(l.Dir); err != nil {
				return paths{}, err
			}
		}
		p.lower = append(p.lower, s)
	}
	return p, nil
}

func (r Root) rel(dir string) (string, error) {
	s, err := filepath.Rel(r.Home, dir)
	if err != nil || s == ".." || strings.HasPrefix(s, "../") {
		return "", fmt.Errorf("plan overlay: %s is not below %s", dir, r.Home)
	}
	return s, nil
}

func (r Root) build(p paths) Mount {
	opts := []string{"lowerdir=" + strings.Join(p.lower, ":"), "upperdir=" + p.upper, "workdir=" + p.work}
	var params []string
	for _, l := range p.lower {
		params = append(params, "lowerdir+="+l)
	}
	params = append(params, "upperdir="+p.upper, "workdir="+p.work)
	if r.UserXattr {
		opts = append(opts, "userxattr")
		params = append(params, "userxattr")
	}
	if r.Volatile {
		opts = append(opts, "volatile")
		params = append(params, "volatile")
	}
	return Mount{Options: strings.Join(opts, ","), Params: params, Target: r.Target}
}

// fits checks m against mount(2)'s page limit and fsconfig(2)'s value limit, and
// that no path holds a character the option parser would split it at.
func (m Mount) fits() error {
	if len(m.Options) >= PageSize {
		return fmt.Errorf("mount data of %d bytes does not fit in a %d-byte page", len(m.Options), PageSize)
	}
	for _, p := range m.Params {
		_, v, _ := strings.Cut(p, "=")
		if len(v) > maxParam {
			return fmt.Errorf("path %s is longer than %d bytes", v, maxParam)
		}
		if strings.ContainsAny(v, ",:\\") {
			return fmt.Errorf("path %s holds one of , : \\", v)
		}
	}
	return nil
}
