// Command ccrun runs containers without a daemon and without root.
//
// See rootless/doc.go for how a container is made, and `ccrun help` for how to use it.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ccrun/ccrun/rootless"
)

var version = "dev"

func main() {
	// ccrun's own re-executed stages (the init, the remover) never get here:
	// package rootless dispatches them from its init function (see
	// rootless/stage_linux.go).

	// P0 keeps Go's default of a P per CPU. It used to drop to one, which saved
	// about 1 ms when its work was one sequential chain. Now a goroutine catches
	// the signals while the main one clones the init and starts the id helpers
	// (see catchSignals), and with one P each waited for the other: two Ps were
	// 0.4 ms faster (two A/Bs of 150 and 200 interleaved rootless runs), for
	// 0.3 ms more CPU. The init still runs on one P (see rootless's stageEnv).
	// P1 (see rootless/doc.go) starts in its user namespace before its ids are
	// mapped, and waits for them here.
	rootless.AwaitMapped()
	os.Exit(ccrun(os.Args[1:], os.Stderr))
}

// commands is the table of subcommands, in the order `ccrun --help` lists them.
func commands() []*command {
	return []*command{runCommand, pullCommand, imagesCommand, rmiCommand, imagePruneCommand,
		loginCommand, logoutCommand, versionCommand}
}

const globalUsage = `Usage: ccrun [global flags] COMMAND [flags] [ARG...]

Run containers without a daemon and without root.

Commands:
%s
Global flags:
%s
Run 'ccrun COMMAND --help' for more about a command.
`

func ccrun(args []string, stderr io.Writer) int {
	g := &globals{}
	fs := pflag.NewFlagSet("ccrun", pflag.ContinueOnError)
	fs.SetInterspersed(false)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&g.Debug, "debug", false, "narrate each kernel step on stderr")
	fs.StringVar(&g.Root, "root", "", "image store directory (default ~/.local/share/ccrun/storage, root: /var/lib/ccrun/storage)")
	fs.StringVar(&g.RunRoot, "runroot", "", "run state directory (default $XDG_RUNTIME_DIR/ccrun, root: /run/ccrun)")
	fs.StringVar(&g.CgroupManager, "cgroup-manager", "", "force how limits are set up: `systemd` or cgroupfs (default: chosen by the host)")
	help := fs.BoolP("help", "h", false, "show this help")
	showVersion := fs.BoolP("version", "v", false, "print the version")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "ccrun: %v\n\n", err)
		fmt.Fprintf(stderr, globalUsage, commandList(), fs.FlagUsages())
		return 125
	}
	setupLogging(g.Debug, stderr)
	rest := fs.Args()
	switch {
	case *showVersion:
		rest = []string{"version"}
	case *help || len(rest) == 0 || rest[0] == "help" && len(rest) == 1:
		fmt.Fprintf(stderr, globalUsage, commandList(), fs.FlagUsages())
		if *help || len(rest) > 0 {
			return 0
		}
		return 125
	case rest[0] == "help":
		rest = append(rest[1:], "--help") // help image prune
	}
	switch g.CgroupManager {
	case "", "systemd", "cgroupfs":
	default:
		fmt.Fprintf(stderr, "ccrun: --cgroup-manager=%s: want systemd or cgroupfs\n", g.CgroupManager)
		return 125
	}
	cmd, cmdArgs := findCommand(rest)
	if cmd == nil {
		fmt.Fprintf(stderr, "ccrun: unknown command %q\nRun 'ccrun --help' for the list of commands.\n", rest[0])
		return 125
	}
	return runCommandLine(g, cmd, cmdArgs, stderr)
}

func findCommand(args []string) (*command, []string) {
	for _, c := range commands() {
		names := append([]string{c.Name}, c.Aliases...)
		for _, n := range names {
			words := strings.Fields(n)
			if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == n {
				return c, args[len(words):]
			}
		}
	}
	return nil, nil
}

func commandList() string {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-14s %s\n", c.Name, c.Short)
	}
	return b.String()
}

func runCommandLine(g *globals, c *command, args []string, stderr io.Writer) int {
	fs := pflag.NewFlagSet(c.Name, pflag.ContinueOnError)
	fs.SetInterspersed(c.Interspersed)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	help := fs.Bool("help", false, "show this help")
	run := c.Flags(fs)
	usage := func() {
		fmt.Fprintf(stderr, "Usage: ccrun %s\n\n%s\n", c.Usage, c.Short)
		if c.Long != "" {
			fmt.Fprintf(stderr, "\n%s\n", strings.TrimSpace(c.Long))
		}
		fmt.Fprintf(stderr, "\nFlags:\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "ccrun %s: %v\n\n", c.Name, err)
		usage()
		return 125
	}
	if *help {
		usage()
		return 0
	}
	if c.UserNS && rootlessMode() && !rootless.InUserNS() {
		return enterUserNS(g, fs, stderr)
	}
	err := run(g, fs.Args())
	var exit *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.code
	case isUsage(err):
		fmt.Fprintf(stderr, "ccrun %s: %v\n\n", c.Name, err)
		usage()
		return 125
	}
	printError(stderr, err)
	return 125
}

// printError prints err once, and its hint when it carries one.
func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "ccrun: %v\n", err)
	var h *rootless.HintError
	if errors.As(err, &h) {
		fmt.Fprintf(w, "hint: %s\n", h.Hint)
	}
}

// withHint attaches the fix to an error; main prints it on a line of its own.
func withHint(err error, hint string) error { return &rootless.HintError{Err: err, Hint: hint} }

// rootlessMode is true when ccrun was started by an ordinary user, including inside
// its own user namespace (where it is uid 0, but only there).
func rootlessMode() bool { return os.Geteuid() != 0 || rootless.InUserNS() }

// hostUID is the caller's uid on the host.
func hostUID() int {
	if rootless.InUserNS() {
		var uid int
		if _, err := fmt.Sscan(os.Getenv("_CONTAINERS_ROOTLESS_UID"), &uid); err == nil {
			return uid
		}
	}
	return os.Getuid()
}

// enterUserNS is P0 of a rootless command: it runs the same command line again in
// ccrun's user namespace and exits as that process did.
func enterUserNS(g *globals, fs *pflag.FlagSet, stderr io.Writer) int {
	ids, err := g.childIDs(stderr)
	if err != nil {
		printError(stderr, err)
		return 125
	}
	ws, err := rootless.Reexec(rootless.ReexecOptions{
		MapIDs: ids.Write, UID: os.Getuid(), GID: os.Getgid(),
	})
	if err != nil {
		printError(stderr, err)
		return 125
	}
	return rootless.ExitCode(ws)
}

func setupLogging(debug bool, w io.Writer) {
	level := slog.LevelWarn
	if debug {
		level = slog.LevelDebug
	}
	stage := "ccrun:[0:host]"
	if rootless.InUserNS() {
		stage = "ccrun:[1:userns]"
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})).With("stage", stage))
}
