package seccomp

import (
	"fmt"
	"slices"

	"github.com/ccrun/ccrun/rootless/caps"
)

// plan is a profile resolved for one ABI, capability set and kernel: the
// decision for every syscall number, as plain data, before it becomes BPF.
type plan struct {
	arch *arch
	// def is the return value for syscalls the profile gives no action.
	def uint32
	// max is the highest syscall number the profile names at all (-1 if none).
	// Numbers above it are syscalls newer than the profile: they get newer, which
	// is ENOSYS so that libc falls back to an older call (as with clone3), unless
	// the default action lets everything through anyway.
	max   int
	newer uint32
	calls map[int]*decision
}

// decision is what happens to one syscall: the first check whose arguments
// match decides; when none does, fallback.
type decision struct {
	checks   []check
	fallback uint32
	set      bool // fallback came from a rule, not from the default
}

// check is one conditional rule: all args must hold.
type check struct {
	args []Arg
	ret  uint32
}

func (d *decision) simple() bool { return len(d.checks) == 0 }

// env is what a profile is resolved against.
type env struct {
	arch   *arch
	caps   uint64        // the container's bounding set
	kernel kernelVersion // the running kernel, for "minKernel"
}

// resolve applies the rules in profile order. For one syscall, rules with
// arguments are tried first, in order, and the first that matches wins; then
// the first rule without arguments; then the default action. (libseccomp
// likewise checks arguments before it falls back to a syscall's plain action,
// and refuses two plain actions for one syscall; ccrun takes the first.)
func (p *Profile) resolve(e env) (*plan, error) {
	def, err := p.DefaultAction.ret(p.DefaultErrnoRet, eperm)
	if err != nil {
		return nil, fmt.Errorf("defaultAction: %w", err)
	}
	pl := &plan{arch: e.arch, def: def, max: -1, newer: retErrno | enosys, calls: map[int]*decision{}}
	if permissive(def) {
		pl.newer = def
	}
	for i := range p.Syscalls {
		if err := pl.add(&p.Syscalls[i], e); err != nil {
			return nil, fmt.Errorf("syscalls[%d] (%s): %w", i, p.Syscalls[i].label(), err)
		}
	}
	for _, d := range pl.calls {
		if !d.set {
			d.fallback = def
		}
		d.prune()
	}
	return pl, nil
}

func (pl *plan) add(r *Rule, e env) error {
	ret, err := r.Action.ret(r.ErrnoRet, eperm)
	if err != nil {
		return err
	}
	applies, err := r.applies(e)
	if err != nil {
		return err
	}
	for _, name := range r.names() {
		nr, ok := e.arch.lookup(name)
		if !ok {
			continue // a syscall of another architecture, or one this ABI never had
		}
		pl.max = max(pl.max, nr)
		if applies {
			pl.decide(nr, r.Args, ret)
		}
	}
	return nil
}

func (pl *plan) decide(nr int, args []Arg, ret uint32) {
	d := pl.calls[nr]
	if d == nil {
		d = &decision{}
		pl.calls[nr] = d
	}
	if len(args) > 0 {
		d.checks = append(d.checks, splitArgs(args, ret)...)
		return
	}
	if !d.set {
		d.fallback, d.set = ret, true
	}
}

// splitArgs follows runc: conditions on different arguments must all hold, but
// several conditions on the same argument are alternatives, each its own rule.
func splitArgs(args []Arg, ret uint32) []check {
	seen := map[uint]bool{}
	for _, a := range args {
		if seen[a.Index] {
			out := make([]check, len(args))
			for i := range args {
				out[i] = check{args: args[i : i+1], ret: ret}
			}
			return out
		}
		seen[a.Index] = true
	}
	return []check{{args: args, ret: ret}}
}

// prune drops checks that end where the fallback would anyway.
func (d *decision) prune() {
	if !slices.ContainsFunc(d.checks, func(c check) bool { return c.ret != d.fallback }) {
		d.checks = nil
	}
}

// applies reports whether a rule's includes and excludes fit the container.
func (r *Rule) applies(e env) (bool, error) {
	in, err := r.Includes.matches(e, true)
	if err != nil || !in {
		return false, err
	}
	if len(r.Excludes.Caps)+len(r.Excludes.Arches) == 0 && r.Excludes.MinKernel == "" {
		return true, nil
	}
	out, err := r.Excludes.matches(e, false)
	return !out, err
}

// matches: for includes (all=true) every listed cap must be held, the arch
// listed and the kernel new enough; for excludes any listed cap held, or the
// arch listed, or the kernel new enough, excludes.
func (f Filter) matches(e env, all bool) (bool, error) {
	capsOK, err := f.capsHeld(e.caps, all)
	if err != nil {
		return false, err
	}
	archOK := len(f.Arches) == 0 || slices.Contains(f.Arches, e.arch.goarch) || slices.Contains(f.Arches, e.arch.scmp)
	kernelOK := true
	if f.MinKernel != "" {
		min, err := parseKernel(f.MinKernel)
		if err != nil {
			return false, err
		}
		kernelOK = e.kernel >= min
	}
	if all {
		return capsOK && archOK && kernelOK, nil
	}
	return (len(f.Caps) > 0 && capsOK) || (len(f.Arches) > 0 && archOK) || (f.MinKernel != "" && kernelOK), nil
}

// capsHeld: with all, whether every listed cap is in m; else whether any is.
func (f Filter) capsHeld(m uint64, all bool) (bool, error) {
	if len(f.Caps) == 0 {
		return true, nil
	}
	for _, name := range f.Caps {
		c, err := caps.Parse(name)
		if err != nil {
			return false, err
		}
		if caps.Has(m, c) != all {
			return !all, nil
		}
	}
	return all, nil
}
