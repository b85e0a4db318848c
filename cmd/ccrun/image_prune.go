package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/ccrun/ccrun/pull/program"
)

var imagePruneCommand = &command{
	Name:  "image prune",
	Usage: "image prune [-a]",
	Short: "Remove unused images and layers",
	Long: `Removes dangling images (those left without a name, by a newer pull of the same
tag), or with -a every image no container uses, then the layers no image or container
uses any more (left by an interrupted pull). It never asks: -f is accepted for docker's
sake.

Examples:
  ccrun image prune
  ccrun image prune -a`,
	UserNS:       true,
	Interspersed: true,
	Flags:        imagePruneFlags,
}

func imagePruneFlags(fs *pflag.FlagSet) func(*globals, []string) error {
	all := fs.BoolP("all", "a", false, "remove every image no container uses, not only the dangling ones")
	fs.BoolP("force", "f", false, "do not ask (ccrun never asks)")
	return func(g *globals, args []string) error {
		if len(args) > 0 {
			return usagef("image prune takes no arguments")
		}
		req, err := storeRequest(g, program.OpPrune)
		if err != nil {
			return err
		}
		req.All = *all
		reply, err := runProgram(g, req)
		for _, id := range reply.Deleted {
			fmt.Println("Deleted:", id)
		}
		return err
	}
}
