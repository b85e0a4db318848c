package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/pflag"
)

var versionCommand = &command{
	Name:  "version",
	Usage: "version",
	Short: "Print ccrun's version",
	Flags: func(fs *pflag.FlagSet) func(*globals, []string) error {
		return func(_ *globals, args []string) error {
			if len(args) > 0 {
				return usagef("version takes no arguments")
			}
			fmt.Printf("ccrun version %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		}
	},
}
