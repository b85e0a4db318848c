package seccomp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/ccrun/ccrun/rootless/caps"
)

// Profile is a seccomp policy in docker's JSON format (the one of moby's
// profiles/seccomp/default.json, also read by podman and the OCI runtimes):
//
//	{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
//	 "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
//	              {"names": ["mount"], "action": "SCMP_ACT_ALLOW",
//	               "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}
//
// Compile turns it into a BPF program for one capability set.
type Profile struct {
	DefaultAction   Action `json:"defaultAction"`
	DefaultErrnoRet *uint  `json:"defaultErrnoRet,omitempty"`
	// Architectures and ArchMap are accepted and checked for known names, but
	// only the native ABI is ever allowed: see the package documentation.
	Architectures []string  `json:"architectures,omitempty"`
	ArchMap       []ArchMap `json:"archMap,omitempty"`
	// Flags are seccomp(2) filter flags. Install always sets TSYNC; the others
	// (LOG, SPEC_ALLOW) are accepted and not applied.
	Flags    []string `json:"flags,omitempty"`
	Syscalls []Rule   `json:"syscalls"`
}

// ArchMap is docker's list of an architecture and its compat sub-architectures.
type ArchMap struct {
	Arch    string   `json:"architecture"`
	SubArch []string `json:"subArchitectures"`
}

// Rule gives an action to some syscalls, when all of Args hold and when the
// container's capabilities and architecture fit Includes and Excludes.
type Rule struct {
	Names    []string `json:"names,omitempty"`
	Name     string   `json:"name,omitempty"` // the old single-name form
	Action   Action   `json:"action"`
	ErrnoRet *uint    `json:"errnoRet,omitempty"`
	Args     []Arg    `json:"args,omitempty"`
	Comment  string   `json:"comment,omitempty"`
	Includes Filter   `json:"includes,omitzero"`
	Excludes Filter   `json:"excludes,omitzero"`
}

// Filter selects rules by the container's bounding capabilities and the
// architecture (a GOARCH name, "amd64"). Includes needs every cap listed; Excludes
// drops the rule if any cap listed is there (moby's semantics).
type Filter struct {
	Arches    []string `json:"arches,omitempty"`
	Caps      []string `json:"caps,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"` // "4.8"
}

// Arg compares syscall argument Index (0-5) with Value, as libseccomp does, on
// the full 64-bit register. For SCMP_CMP_MASKED_EQ, Value is the mask and
// ValueTwo what the masked argument must equal.
type Arg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
	Op       Op     `json:"op"`
}

// Action is what the kernel does with a matching syscall.
type Action string

// The actions of seccomp(2), by libseccomp's names.
const (
	ActAllow       Action = "SCMP_ACT_ALLOW"
	ActErrno       Action = "SCMP_ACT_ERRNO"
	ActKill        Action = "SCMP_ACT_KILL" // the thread
	ActKillThread  Action = "SCMP_ACT_KILL_THREAD"
	ActKillProcess Action = "SCMP_ACT_KILL_PROCESS"
	ActTrap        Action = "SCMP_ACT_TRAP"
	ActTrace       Action = "SCMP_ACT_TRACE"
	ActLog         Action = "SCMP_ACT_LOG"
	ActNotify      Action = "SCMP_ACT_NOTIFY"
)

// Op compares an argument.
type Op string

// The comparisons of libseccomp (seccomp_rule_add(3)), all unsigned 64-bit.
const (
	OpNotEqual     Op = "SCMP_CMP_NE"
	OpLessThan     Op = "SCMP_CMP_LT"
	OpLessEqual    Op = "SCMP_CMP_LE"
	OpEqualTo      Op = "SCMP_CMP_EQ"
	OpGreaterEqual Op = "SCMP_CMP_GE"
	OpGreaterThan  Op = "SCMP_CMP_GT"
	OpMaskedEqual  Op = "SCMP_CMP_MASKED_EQ"
)

// Load reads a profile in docker's JSON format and checks it: unknown fields,
// actions, comparisons, argument indexes, capability and architecture names are
// errors, so that a typo never silently weakens the filter.
func Load(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parse seccomp profile: %w", err)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("check seccomp profile: %w", err)
	}
	return &p, nil
}

func (p *Profile) validate() error {
	if p.DefaultAction == "" {
		return errors.New(`"defaultAction" is missing`)
	}
	if _, err := p.DefaultAction.ret(p.DefaultErrnoRet, eperm); err != nil {
		return fmt.Errorf("defaultAction: %w", err)
	}
	if err := checkArches(p); err != nil {
		return err
	}
	if err := checkFlags(p.Flags); err != nil {
		return err
	}
	for i := range p.Syscalls {
		if err := p.Syscalls[i].validate(); err != nil {
			return fmt.Errorf("syscalls[%d] (%s): %w", i, p.Syscalls[i].label(), err)
		}
	}
	return nil
}

func checkArches(p *Profile) error {
	all := slices.Clone(p.Architectures)
	for _, m := range p.ArchMap {
		all = append(append(all, m.Arch), m.SubArch...)
	}
	for _, a := range all {
		if !slices.Contains(archNames, a) {
			return fmt.Errorf("unknown architecture %q: libseccomp's names are SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, ...", a)
		}
	}
	return nil
}

var knownFlags = []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"}

func checkFlags(flags []string) error {
	for _, f := range flags {
		if !slices.Contains(knownFlags, f) {
			return fmt.Errorf("unsupported flag %q: ccrun knows %v", f, knownFlags)
		}
	}
	return nil
}

func (r *Rule) validate() error {
	if len(r.names()) == 0 {
		return errors.New(`no syscall "names"`)
	}
	if _, err := r.Action.ret(r.ErrnoRet, eperm); err != nil {
		return err
	}
	for _, a := range r.Args {
		if err := a.validate(); err != nil {
			return err
		}
	}
	for _, f := range []Filter{r.Includes, r.Excludes} {
		if err := f.validate(); err != nil {
			return err
		}
	}
	return nil
}

func (a Arg) validate() error {
	if a.Index > 5 {
		return fmt.Errorf("argument index %d: syscalls have arguments 0 to 5", a.Index)
	}
	switch a.Op {
	case OpNotEqual, OpLessThan, OpLessEqual, OpEqualTo, OpGreaterEqual, OpGreaterThan, OpMaskedEqual:
		return nil
	}
	return fmt.Errorf("unknown comparison %q: use SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE or _MASKED_EQ", a.Op)
}

func (f Filter) validate() error {
	for _, c := range f.Caps {
		if _, err := caps.Parse(c); err != nil {
			return err
		}
	}
	if f.MinKernel != "" {
		if _, err := parseKernel(f.MinKernel); err != nil {
			return err
		}
	}
	return nil
}

// names returns the syscalls a rule covers, in either JSON form.
func (r *Rule) names() []string {
	if r.Name != "" {
		return append([]string{r.Name}, r.Names...)
	}
	return r.Names
}

func (r *Rule) label() string {
	n := r.names()
	switch {
	case len(n) == 0:
		return "no names"
	case len(n) > 3:
		return fmt.Sprintf("%s, %s, ... %d syscalls", n[0], n[1], len(n))
	}
	return fmt.Sprint(n)
}
