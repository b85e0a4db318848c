// Command ccrun-init is the reaper that ccrun run --init puts in front of the
// command as the container's PID 1 (see rootless/reaper). ccrun embeds it; it is
// not meant to be run by hand.
package main

import (
	"os"

	"github.com/ccrun/ccrun/rootless/reaper"
)

func main() { reaper.Main(os.Args[1:]) }
