package caps

import "fmt"

// Sets are the capability sets of a container's first process, as masks.
type Sets struct {
	Bounding    uint64
	Permitted   uint64
	Effective   uint64
	Inheritable uint64
	Ambient     uint64
}

// Flags are docker's capability flags, as the user typed them.
type Flags struct {
	Add        []string // --cap-add
	Drop       []string // --cap-drop
	Privileged bool     // --privileged
	// Available are the capabilities ccrun itself can hand on: its own bounding
	// set (a process can never gain one outside it, and root on some hosts lacks
	// a few). ALL and --privileged mean all of these. Zero means All, for tests.
	Available uint64
}

// Compute returns the sets for uid 0 in the container (the init clears permitted
// and effective itself when it switches to another uid). It starts from Default,
// or from everything available with --privileged, then:
//
//   - --cap-drop ALL starts from nothing, and --cap-add adds to that;
//   - --cap-add ALL grants everything except what --cap-drop names;
//   - otherwise --cap-drop removes from the start and --cap-add adds to it.
//
// Naming one capability in both --cap-add and --cap-drop is an error, as in
// podman, because the outcome would depend on which rule the reader remembers.
// --privileged with --cap-drop drops those (podman does; docker ignores the
// drop), since the user asked for less.
func Compute(f Flags) (Sets, error) {
	add, addAll, err := ParseList(f.Add)
	if err != nil {
		return Sets{}, fmt.Errorf("--cap-add: %w", err)
	}
	drop, dropAll, err := ParseList(f.Drop)
	if err != nil {
		return Sets{}, fmt.Errorf("--cap-drop: %w", err)
	}
	if err := conflict(add, drop, addAll, dropAll); err != nil {
		return Sets{}, err
	}
	avail := f.Available
	if avail == 0 {
		avail = All
	}
	if missing := add &^ avail; missing != 0 {
		return Sets{}, fmt.Errorf("--cap-add %s: ccrun's own bounding set lacks it, so no container can have it (see CapBnd in /proc/self/status)", Format(missing))
	}
	start := Default
	if f.Privileged {
		start = avail
	}
	set := combine(start, add, drop, addAll, dropAll) & avail
	return Sets{Bounding: set, Permitted: set, Effective: set}, nil
}

func conflict(add, drop uint64, addAll, dropAll bool) error {
	if addAll && dropAll {
		return fmt.Errorf("--cap-add ALL and --cap-drop ALL contradict each other: keep one")
	}
	if both := add & drop; both != 0 {
		return fmt.Errorf("%s is both added and dropped: remove it from --cap-add or --cap-drop", Format(both))
	}
	return nil
}

func combine(start, add, drop uint64, addAll, dropAll bool) uint64 {
	switch {
	case dropAll:
		return add
	case addAll:
		return All &^ drop // combined with Available by the caller
	default:
		return (start &^ drop) | add
	}
}
