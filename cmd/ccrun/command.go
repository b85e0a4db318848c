package main

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/ccrun/ccrun/uidmap"
)

// command is one ccrun subcommand. Each lives in a file of its own (run.go, pull.go, ...).
type command struct {
	Name    string
	Aliases []string
	Usage   string // "run [flags] IMAGE [COMMAND [ARG...]]"
	Short   string // one line for `ccrun --help`
	Long    string // the rest of `ccrun CMD --help`: what it does and examples
	// UserNS: when not run as root, the command runs inside ccrun's user namespace
	// (P1, see rootless/doc.go), where the image store lives and layer files can be
	// owned by subordinate ids. `run` does not: it makes the user namespaces its
	// children need itself (see globals.childIDs).
	UserNS bool
	// Flags declares the flags on fs and returns the function that runs the command
	// with the remaining arguments. Interspersed is false for commands whose
	// arguments are a command line of their own (run).
	Flags        func(fs *pflag.FlagSet) func(g *globals, args []string) error
	Interspersed bool
}

// globals are the flags before the subcommand: ccrun [global flags] COMMAND ...
type globals struct {
	Debug   bool
	Root    string // --root: the image store (graph root)
	RunRoot string // --runroot: run state
	// CgroupManager forces how limits are set up: "systemd" or "cgroupfs"
	// (--cgroup-manager); empty chooses.
	CgroupManager string

	ids *uidmap.Plans // see childIDs
}

// usageError is a mistake on the command line: ccrun prints it with the usage line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// exitError carries an exit status chosen by the command itself (the container's own
// status, or 125/126/127 with a message already printed).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func isUsage(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}
