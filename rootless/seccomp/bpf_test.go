package seccomp

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// seccompData is struct seccomp_data, as a test fills it.
type seccompData struct {
	nr   int32
	arch uint32
	ip   uint64
	args [6]uint64
}

func (d seccompData) bytes() []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(d.nr))
	b = binary.LittleEndian.AppendUint32(b, d.arch)
	b = binary.LittleEndian.AppendUint64(b, d.ip)
	for _, a := range d.args {
		b = binary.LittleEndian.AppendUint64(b, a)
	}
	return b
}

// run is a small classic BPF interpreter for the instructions the compiler
// emits, checking what the kernel's verifier checks (seccomp_check_filter):
// aligned in-bounds loads, jumps that stay inside the program, a final return.
func run(t *testing.T, prog []instruction, d seccompData) uint32 {
	t.Helper()
	data := d.bytes()
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		jump := func(cond bool) {
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		}
		switch in.Code {
		case opLoadAbs:
			if in.K%4 != 0 || int(in.K)+4 > len(data) {
				t.Fatalf("pc %d: load at %d outside seccomp_data", pc, in.K)
			}
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case opAndK:
			acc &= in.K
		case opJa:
			pc += int(in.K)
		case opJeq:
			jump(acc == in.K)
		case opJgt:
			jump(acc > in.K)
		case opJge:
			jump(acc >= in.K)
		case opJset:
			jump(acc&in.K != 0)
		case opRetK:
			return in.K
		default:
			t.Fatalf("pc %d: opcode %#x the compiler never emits", pc, in.Code)
		}
	}
	t.Fatalf("program ran off its end")
	return 0
}

// disassemble is for failure messages.
func disassemble(prog []instruction) string {
	var b strings.Builder
	names := map[uint16]string{opLoadAbs: "ld", opAndK: "and", opJa: "ja", opJeq: "jeq", opJgt: "jgt", opJge: "jge", opJset: "jset", opRetK: "ret"}
	for i, in := range prog {
		switch {
		case in.Code == opJa:
			fmt.Fprintf(&b, "%4d ja %d\n", i, i+1+int(in.K))
		case isCond(in.Code):
			fmt.Fprintf(&b, "%4d %s %#x -> %d : %d\n", i, names[in.Code], in.K, i+1+int(in.Jt), i+1+int(in.Jf))
		default:
			fmt.Fprintf(&b, "%4d %s %#x\n", i, names[in.Code], in.K)
		}
	}
	return b.String()
}

func TestAssemblerTrampolines(t *testing.T) {
	// A jump over 600 instructions needs a trampoline; both sides far needs two.
	a := &assembler{}
	far, far2 := a.newLabel(), a.newLabel()
	a.load(offNr)
	a.cond(opJeq, 7, far, next)
	a.cond(opJeq, 8, far, far2)
	for i := 0; i < 600; i++ {
		a.ret(uint32(1000 + i))
	}
	a.bind(far)
	a.ret(1)
	for i := 0; i < 300; i++ {
		a.ret(uint32(5000 + i))
	}
	a.bind(far2)
	a.ret(2)
	prog, err := a.assemble()
	if err != nil {
		t.Fatal(err)
	}
	for nr, want := range map[int32]uint32{7: 1, 8: 1, 9: 2} {
		if got := run(t, prog, seccompData{nr: nr}); got != want {
			t.Errorf("nr %d: got %d, want %d\n%s", nr, got, want, disassemble(prog[:8]))
		}
	}
	if len(prog) != 1+2+3+600+1+300+1 {
		t.Errorf("program has %d instructions, want 908 (3 trampolines)", len(prog))
	}
}

func TestAssemblerUnboundLabel(t *testing.T) {
	a := &assembler{}
	a.load(offNr)
	a.cond(opJeq, 1, a.newLabel(), next)
	a.ret(0)
	if _, err := a.assemble(); err == nil || !strings.Contains(err.Error(), "never bound") {
		t.Fatalf("assemble() error = %v, want 'never bound'", err)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	prog := []instruction{{Code: opLoadAbs, K: 4}, {Code: opJeq, Jt: 1, Jf: 2, K: 0xc000003e}, {Code: opRetK, K: retAllow}}
	b := marshal(prog)
	if len(b) != 24 {
		t.Fatalf("marshal: %d bytes, want 24", len(b))
	}
	back, err := unmarshal(b)
	if err != nil || fmt.Sprint(back) != fmt.Sprint(prog) {
		t.Fatalf("unmarshal(marshal(p)) = %v, %v; want %v", back, err, prog)
	}
	for _, bad := range [][]byte{nil, make([]byte, 7), make([]byte, 8*(maxInstructions+1))} {
		if _, err := unmarshal(bad); err == nil {
			t.Errorf("unmarshal(%d bytes) accepted", len(bad))
		}
	}
}
