package main

import (
	"errors"

	"github.com/ccrun/ccrun/pull/program"
	"github.com/ccrun/ccrun/pull/ref"
	"github.com/ccrun/ccrun/pull/store"
	"github.com/ccrun/ccrun/pull/store/full"
)

// removeImages removes the images req names (or, with req.All, every image)
// one by one, as rmi does: a failure is reported, and the others are still
// removed. The reply lists what was removed, in order, and every failure.
func removeImages(st *full.Store, req program.Request) program.Reply {
	args := req.Images
	if req.All {
		imgs, err := st.Images()
		if err != nil {
			return program.Reply{Error: err.Error()}
		}
		args = nil
		for _, img := range imgs {
			args = append(args, img.ID)
		}
	}
	var r program.Reply
	var errs []error
	for _, a := range args {
		img, name, err := findImage(st, a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rm, err := st.Remove(img, name, req.Force)
		if len(rm.Untagged) > 0 || rm.Deleted != "" {
			r.Removals = append(r.Removals, rm)
		}
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		r.Error = err.Error()
	}
	return r
}

// findImage looks arg up as an image id (or unique prefix) first, then as a
// reference. It returns the name the user meant, or "" for an id.
func findImage(st *full.Store, arg string) (*store.Image, string, error) {
	if ref.LooksLikeID(arg) {
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
