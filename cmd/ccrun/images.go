package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/ccrun/ccrun/pull/program"
	"github.com/ccrun/ccrun/pull/store"
)

var imagesCommand = &command{
	Name:    "images",
	Aliases: []string{"image ls", "image list"},
	Usage:   "images [-q] [--format json]",
	Short:   "List the images in the local store",
	Long: `One line per name (REPOSITORY and TAG); an image without a name shows <none>.
SIZE is the unpacked size of all its layers (layers shared between images count for
each of them).

Examples:
  ccrun images
  ccrun images -q                 # ids only, one per image
  ccrun images --format json`,
	UserNS:       true,
	Interspersed: true,
	Flags:        imagesFlags,
}

func imagesFlags(fs *pflag.FlagSet) func(*globals, []string) error {
	quiet := fs.BoolP("quiet", "q", false, "print image ids only")
	format := fs.String("format", "", "`json` for a machine-readable list")
	return func(g *globals, args []string) error {
		if len(args) > 0 {
			return usagef("images takes no arguments")
		}
		if *format != "" && *format != "json" {
			return usagef("--format %s: only json is supported", *format)
		}
		req, err := storeRequest(g, program.OpImages)
		if err != nil {
			return err
		}
		reply, err := runProgram(g, req)
		if err != nil {
			return err
		}
		imgs := reply.Images
		switch {
		case *format == "json":
			return writeImagesJSON(os.Stdout, imgs)
		case *quiet:
			for _, img := range imgs {
				fmt.Println(img.ID[:12])
			}
			return nil
		}
		return writeImagesTable(os.Stdout, imgs, time.Now())
	}
}

// imageJSON is one image in `ccrun images --format json`.
type imageJSON struct {
	ID      string    `json:"id"`
	Names   []string  `json:"names"`
	Digests []string  `json:"digests"`
	Created time.Time `json:"created"`
	Size    int64     `json:"size"`
}

func writeImagesJSON(w io.Writer, imgs []store.Image) error {
	out := make([]imageJSON, 0, len(imgs))
	for _, img := range imgs {
		out = append(out, imageJSON{ID: img.ID, Names: nonNil(img.Names), Digests: nonNil(img.Digests), Created: img.Created, Size: img.Size})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func writeImagesTable(w io.Writer, imgs []store.Image, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
	for _, img := range imgs {
		names := img.Names
		if len(names) == 0 {
			names = []string{""}
		}
		for _, n := range names {
			repo, tag := splitName(n)
			fmt.Fprintf(tw, "%s\t%s\t%.12s\t%s\t%s\n", repo, tag, img.ID, ago(now, img.Created), humanSize(img.Size))
		}
	}
	return tw.Flush()
}

// splitName splits a stored name into repository and tag; a name by digest
// has no tag.
func splitName(name string) (repo, tag string) {
	if name == "" {
		return "<none>", "<none>"
	}
	if r, _, ok := strings.Cut(name, "@"); ok {
		return r, "<none>"
	}
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		return name[:i], name[i+1:]
	}
	return name, "<none>"
}

// ago says how long before now t was, as docker does ("3 hours ago").
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	d := now.Sub(t)
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name + " ago"
		}
		return fmt.Sprintf("%d %ss ago", n, name)
	}
	switch {
	case d < time.Minute:
		return "Less than a minute ago"
	case d < time.Hour:
		return unit(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return unit(int64(d/time.Hour), "hour")
	case d < 14*24*time.Hour:
		return unit(int64(d/(24*time.Hour)), "day")
	case d < 60*24*time.Hour:
		return unit(int64(d/(7*24*time.Hour)), "week")
	case d < 2*365*24*time.Hour:
		return unit(int64(d/(30*24*time.Hour)), "month")
	}
	return unit(int64(d/(365*24*time.Hour)), "year")
}

// humanSize prints a size in decimal units with three significant digits, as
// docker does (4.26MB).
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", f, units[i])
}
