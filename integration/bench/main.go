// Command bench times container runtimes side by side for `make bench`
// (integration/bench/bench.sh drives it). It measures, it does not judge: no
// timing goal lives here or in any test.
//
//	bench time   [flags] -- CMD ARG...   wall time of CMD, as root or as --user
//	bench rss    [flags] -- CMD ARG...   peak resident memory of a runtime's processes
//	bench skip   --scenario S --name N --reason TEXT
//	bench report --json OUT RESULTS.jsonl
//	bench timeline -root PATH < PERF_SCRIPT   where a run's time goes (trace.sh)
//
// time and rss append one JSON line to --out. In CMD, {i} becomes a number unique
// to each run (container names). A failing command is recorded with its stderr and
// does not stop the benchmark; report prints it in place of figures.
//
// Why a program and not a shell loop: a fork+exec from the shell costs about as much
// as the fastest thing measured here (unshare: 2 ms), concurrent runs need one clock
// around all of them, and peak RSS needs /proc sampled every millisecond. The
// children are started directly (no shell) and, with --user, with that user's
// credentials and a clean environment (HOME, PATH, no XDG_RUNTIME_DIR), so runuser's
// PAM session is not counted.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench time|rss|skip|report|timeline [flags] [-- CMD ARG...]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "time":
		err = timeMain(os.Args[2:])
	case "rss":
		err = rssMain(os.Args[2:])
	case "skip":
		err = skipMain(os.Args[2:])
	case "report":
		err = reportMain(os.Args[2:])
	case "timeline":
		err = timelineMain(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}
