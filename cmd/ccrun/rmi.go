package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/ccrun/ccrun/pull/program"
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
		req, err := storeRequest(g, program.OpRemove)
		if err != nil {
			return err
		}
		req.Images, req.All, req.Force = args, *all, *force
		// The program removes what it can and reports every failure: what it
		// removed is printed, the docker way, before the failures.
		reply, err := runProgram(g, req)
		for _, r := range reply.Removals {
			for _, n := range r.Untagged {
				fmt.Println("Untagged:", n)
			}
			if r.Deleted != "" {
				fmt.Println("Deleted:", r.Deleted)
			}
		}
		return err
	}
}
