package main

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/ccrun/ccrun/pull/ref"
	"github.com/ccrun/ccrun/pull/store"
)

var rmiCommand = &command{
	Name:    "rmi",
	Aliases: []string{"image rm"},
	Usage:   "rmi [-f] IMAGE... | rmi -a [-f]",
	Short:   "Remove images from the local store",
	Long: `IMAGE is a name (busybox, registry:5000/team/tool:1.2, repo@sha256:...) or an image
id or a unique prefix of one. An image with several names loses only the name given;
it is deleted with its last name, and its layers with it unless another image shares
them. An image a container uses is refused; -f removes its stopped containers first
(never a running one).

Examples:
  ccrun rmi busybox
  ccrun rmi -f 3f57d9401f8d
  ccrun rmi -a -f                 # empty the store`,
	UserNS:       true,
	Interspersed: true,
	Flags:        rmiFlags,
}

func rmiFlags(fs *pflag.FlagSet) func(*globals, []string) error {
	force := fs.BoolP("force", "f", false, "also remove the image's stopped containers, and an image with several names given by id")
	all := fs.BoolP("all", "a", false, "remove every image")
	return func(g *globals, args []string) error {
		if len(args) == 0 && !*all || len(args) > 0 && *all {
			return usagef("rmi takes images, or -a")
		}
		st, err := openStore(g)
		if err != nil {
			return err
		}
		if *all {
			args, err = allImageIDs(st)
		}
		var errs []error
		if err == nil {
			for _, a := range args {
				errs = append(errs, removeImage(st, a, *force))
			}
		}
		return errors.Join(append(errs, err, st.Close())...)
	}
}

func allImageIDs(st *store.Store) ([]string, error) {
	imgs, err := st.Images()
	var ids []string
	for _, img := range imgs {
		ids = append(ids, img.ID)
	}
	return ids, err
}

// removeImage removes one image as the user named it, and says what it did
// the docker way (Untagged:, Deleted:).
func removeImage(st *store.Store, arg string, force bool) error {
	img, name, err := findImage(st, arg)
	if err != nil {
		return err
	}
	r, err := st.Remove(img, name, force)
	for _, n := range r.Untagged {
		fmt.Println("Untagged:", n)
	}
	if r.Deleted != "" {
		fmt.Println("Deleted:", r.Deleted)
	}
	return err
}

// findImage looks arg up as an image id (or unique prefix) first, then as a
// reference. It returns the name the user meant, or "" for an id.
func findImage(st *store.Store, arg string) (*store.Image, string, error) {
	if looksLikeID(arg) {
		if img, err := st.Lookup(arg); err == nil {
			return img, "", nil
		}
	}
	r, err := ref.Parse(arg)
	if err != nil {
		return nil, "", err
	}
	img, err := st.Lookup(r.StoreName())
	if err != nil {
		return nil, "", err
	}
	return img, r.StoreName(), nil
}

// looksLikeID: at least 3 lower-case hex digits, as an id prefix must be.
func looksLikeID(s string) bool {
	if len(s) < 3 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
