package seccomp

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ccrun/ccrun/rootless/caps"
)

// reference decides a syscall straight from the profile, the slow obvious way,
// with none of the compiler's ranges, trees, pruning or trampolines.
func reference(t *testing.T, p *Profile, e env, d seccompData) uint32 {
	t.Helper()
	def, err := p.DefaultAction.ret(p.DefaultErrnoRet, eperm)
	if err != nil {
		t.Fatal(err)
	}
	if d.arch != e.arch.audit {
		return retKillProcess
	}
	nr, newest := int(uint32(d.nr)), -1
	for _, r := range p.Syscalls {
		for _, n := range r.names() {
			if x, ok := e.arch.lookup(n); ok {
				newest = max(newest, x)
			}
		}
	}
	if nr > newest {
		switch {
		case e.arch.compatBit != 0 && uint32(nr)&e.arch.compatBit != 0:
			return retKillProcess
		case permissive(def):
			return def
		}
		return retErrno | enosys
	}
	var conditional []check
	plain, found := def, false
	for _, r := range p.Syscalls {
		in, err := r.applies(e)
		if err != nil {
			t.Fatal(err)
		}
		named := slices.ContainsFunc(r.names(), func(n string) bool { x, ok := e.arch.lookup(n); return ok && x == nr })
		if !in || !named {
			continue
		}
		ret, _ := r.Action.ret(r.ErrnoRet, eperm)
		switch {
		case len(r.Args) > 0:
			conditional = append(conditional, splitArgs(r.Args, ret)...)
		case !found:
			plain, found = ret, true
		}
	}
	for _, c := range conditional {
		if !slices.ContainsFunc(c.args, func(a Arg) bool { return !holds(a, d.args[a.Index]) }) {
			return c.ret
		}
	}
	return plain
}

func holds(a Arg, v uint64) bool {
	switch a.Op {
	case OpEqualTo:
		return v == a.Value
	case OpNotEqual:
		return v != a.Value
	case OpLessThan:
		return v < a.Value
	case OpLessEqual:
		return v <= a.Value
	case OpGreaterThan:
		return v > a.Value
	case OpGreaterEqual:
		return v >= a.Value
	case OpMaskedEqual:
		return v&a.Value == a.ValueTwo
	}
	panic(a.Op)
}

// Interesting argument values: equal, one off, and differing in either half.
var values = []uint64{0, 1, 2, 0x7fffffff, 0xffffffff, 1 << 32, 1<<32 | 1, 1<<32 | 2, 0xffffffff_ffffffff, 0x12345678_9abcdef0}

func randomProfile(r *rand.Rand, a *arch) *Profile {
	actions := []Action{ActAllow, ActErrno, ActKillProcess, ActTrap, ActLog, ActKillThread}
	ops := []Op{OpEqualTo, OpNotEqual, OpLessThan, OpLessEqual, OpGreaterThan, OpGreaterEqual, OpMaskedEqual}
	capNames := []string{"CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_CHOWN"}
	p := &Profile{DefaultAction: actions[r.IntN(len(actions))]}
	for range 1 + r.IntN(40) {
		rule := Rule{Action: actions[r.IntN(len(actions))]}
		if rule.Action == ActErrno {
			e := uint(1 + r.IntN(100))
			rule.ErrnoRet = &e
		}
		for range 1 + r.IntN(4) {
			// Cluster around a few numbers so that rules collide.
			rule.Names = append(rule.Names, a.table[r.IntN(30)*r.IntN(2)*7%len(a.table)].name)
		}
		if r.IntN(2) == 0 {
			for range 1 + r.IntN(3) {
				rule.Args = append(rule.Args, Arg{Index: uint(r.IntN(3)), Value: values[r.IntN(len(values))],
					ValueTwo: values[r.IntN(len(values))], Op: ops[r.IntN(len(ops))]})
			}
		}
		switch r.IntN(4) {
		case 0:
			rule.Includes.Caps = []string{capNames[r.IntN(len(capNames))]}
		case 1:
			rule.Excludes.Caps = []string{capNames[r.IntN(len(capNames))]}
		}
		p.Syscalls = append(p.Syscalls, rule)
	}
	return p
}

// TestCompileMatchesReference compiles random profiles and checks the program
// against the reference on random calls.
func TestCompileMatchesReference(t *testing.T) {
	a, err := nativeArch()
	if err != nil {
		t.Skip(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 150 {
		p := randomProfile(r, a)
		e := env{arch: a, caps: r.Uint64() & caps.All}
		prog, err := p.compile(e)
		if err != nil {
			t.Fatalf("profile %d: %v", i, err)
		}
		for range 200 {
			d := seccompData{nr: int32(r.IntN(240)), arch: a.audit}
			if r.IntN(20) == 0 {
				d.arch = r.Uint32()
			}
			if r.IntN(20) == 0 {
				d.nr = int32(r.Uint32())
			}
			for j := range d.args {
				d.args[j] = values[r.IntN(len(values))]
			}
			if got, want := run(t, prog, d), reference(t, p, e, d); got != want {
				b, _ := json.Marshal(p)
				t.Fatalf("profile %d, nr %d args %x: program says %#x, reference %#x\nprofile: %s\n%s",
					i, d.nr, d.args[:3], got, want, b, disassemble(prog))
			}
		}
	}
}

func TestCompileDefaultMatchesReference(t *testing.T) {
	a, err := nativeArch()
	if err != nil {
		t.Skip(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, m := range []uint64{0, caps.Default, caps.Default | sysAdmin, caps.All} {
		e := env{arch: a, caps: m, kernel: 6<<16 | 18}
		prog, err := Default().compile(e)
		if err != nil {
			t.Fatal(err)
		}
		for nr := -1; nr < 520; nr++ {
			d := seccompData{nr: int32(nr), arch: a.audit}
			for j := range d.args {
				d.args[j] = values[r.IntN(len(values))]
			}
			if got, want := run(t, prog, d), reference(t, Default(), e, d); got != want {
				t.Errorf("caps %s: %s%x: program says %#x, reference %#x", caps.Format(m), a.name(nr), d.args[:2], got, want)
			}
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	b, err := json.MarshalIndent(Default(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load(b)
	if err != nil {
		t.Fatalf("Load(Default as JSON): %v", err)
	}
	for _, m := range []uint64{caps.Default, caps.All} {
		want, _ := Default().Compile(m)
		got, err := p.Compile(m)
		if err != nil || string(got) != string(want) {
			t.Errorf("caps %s: the JSON form compiles differently (err %v)", caps.Format(m), err)
		}
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name, json, err string
	}{
		{name: "minimal", json: `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}`},
		{name: "docker shape", json: `{
			"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
			"archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
			"syscalls": [
				{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
				{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
				{"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
				 "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}, "comment": "no namespaces"},
				{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
			]}`},
		{name: "old single name", json: `{"defaultAction": "SCMP_ACT_KILL", "syscalls": [{"name": "read", "action": "SCMP_ACT_ALLOW", "args": []}]}`},
		{name: "not json", json: `{`, err: "parse seccomp profile"},
		{name: "unknown field", json: `{"defaultAction": "SCMP_ACT_ALLOW", "sycalls": []}`, err: `unknown field "sycalls"`},
		{name: "no default", json: `{"syscalls": []}`, err: "defaultAction"},
		{name: "bad default", json: `{"defaultAction": "SCMP_ACT_DENY"}`, err: `unknown action "SCMP_ACT_DENY"`},
		{name: "bad action", json: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "ALLOW"}]}`, err: `syscalls[0] ([read]): unknown action "ALLOW"`},
		{name: "notify", json: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}`, err: "seccomp agent"},
		{name: "no names", json: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]}`, err: "no syscall"},
		{name: "bad op", json: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQUAL"}]}]}`, err: `unknown comparison "SCMP_CMP_EQUAL"`},
		{name: "bad index", json: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`, err: "argument index 6"},
		{name: "bad cap", json: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMINN"]}}]}`, err: `unknown capability "CAP_SYS_ADMINN"`},
		{name: "bad arch", json: `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]}`, err: `unknown architecture "SCMP_ARCH_Z80"`},
		{name: "bad errno", json: `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000}`, err: "errno 5000 out of range"},
		{name: "bad kernel", json: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "four"}}]}`, err: `kernel version "four"`},
		{name: "bad flag", json: `{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]}`, err: "unsupported flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Load([]byte(tt.json))
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := p.Compile(caps.Default); err != nil && native != nil {
					t.Fatalf("Compile: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Load() error = %v, want one containing %q", err, tt.err)
			}
		})
	}
}

func TestLoadedProfileDecides(t *testing.T) {
	p, err := Load([]byte(`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 13, "syscalls": [
		{"names": ["read", "write", "exit_group", "not_a_syscall_anywhere"], "action": "SCMP_ACT_ALLOW"},
		{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 3, "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]},
		{"names": ["kill"], "action": "SCMP_ACT_ALLOW"},
		{"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_KILL", "CAP_SYS_ADMIN"]}},
		{"names": ["getppid"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_KILL", "CAP_SYS_ADMIN"]}},
		{"names": ["lseek"], "action": "SCMP_ACT_ALLOW", "args": [
			{"index": 2, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 2, "op": "SCMP_CMP_EQ"}]}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		call call
		caps uint64
		want uint32
	}{
		{sys("read"), 0, allow},
		{sys("open"), 0, retErrno | 13},
		{sys("kill", 1, 15), 0, allow},
		{sys("kill", 1, 9), 0, retErrno | 3},
		{sys("getpid"), 1 << 5, retErrno | 13},
		{sys("getpid"), 1<<5 | sysAdmin, allow},
		{sys("getppid"), 0, allow},
		{sys("getppid"), 1 << 5, retErrno | 13},
		// Two conditions on one argument are alternatives (runc's rule).
		{sys("lseek", 0, 0, 0), 0, allow},
		{sys("lseek", 0, 0, 2), 0, allow},
		{sys("lseek", 0, 0, 1), 0, retErrno | 13},
	}
	for _, tt := range tests {
		prog, a := compiled(t, p, tt.caps)
		if got := run(t, prog, tt.call.data(t, a)); got != tt.want {
			t.Errorf("%v with %s = %#x, want %#x", tt.call, caps.Format(tt.caps), got, tt.want)
		}
	}
}

func TestParseKernel(t *testing.T) {
	tests := []struct {
		in   string
		want kernelVersion
		ok   bool
	}{
		{"4.8", 4<<16 | 8, true},
		{"6.18.0-amd64", 6<<16 | 18, true},
		{"5.10.0-28-cloud-amd64", 5<<16 | 10, true},
		{"6", 0, false},
		{"six.1", 0, false},
		{"6.x1", 0, false},
	}
	for _, tt := range tests {
		got, err := parseKernel(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseKernel(%q) = %#x, %v; want %#x ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
