package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Classic BPF as seccomp uses it (linux/filter.h, linux/bpf_common.h). A program
// is a list of 8-byte instructions run over struct seccomp_data; jumps only go
// forward, and a conditional jump reaches at most 255 instructions ahead, so the
// assembler below inserts an unconditional jump ("trampoline") when a target is
// further away.
const (
	opLoadAbs = 0x20 // BPF_LD|BPF_W|BPF_ABS: A = data[k:k+4]
	opAndK    = 0x54 // BPF_ALU|BPF_AND|BPF_K: A &= k
	opJa      = 0x05 // BPF_JMP|BPF_JA: pc += k
	opJeq     = 0x15 // BPF_JMP|BPF_JEQ|BPF_K: pc += (A == k) ? jt : jf
	opJgt     = 0x25 // BPF_JMP|BPF_JGT|BPF_K: unsigned A > k
	opJge     = 0x35 // BPF_JMP|BPF_JGE|BPF_K: unsigned A >= k
	opJset    = 0x45 // BPF_JMP|BPF_JSET|BPF_K: A & k != 0
	opRetK    = 0x06 // BPF_RET|BPF_K: return k
)

// maxInstructions is BPF_MAXINSNS: the kernel refuses longer programs.
const maxInstructions = 4096

// struct seccomp_data (linux/seccomp.h): int nr; __u32 arch; __u64
// instruction_pointer; __u64 args[6]. Arguments are 64-bit; classic BPF loads 32
// bits at a time. ccrun only filters little-endian ABIs (amd64, arm64), where the
// low half comes first.
const (
	offNr   = 0
	offArch = 4
)

func argLow(i uint) uint32  { return 16 + 8*uint32(i) }
func argHigh(i uint) uint32 { return 16 + 8*uint32(i) + 4 }

// instruction is struct sock_filter.
type instruction struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// label names a place in a program being assembled; next is the instruction
// right after a jump (an offset of zero).
type label int

const next label = -1

// insn is an instruction whose jump targets are still labels.
type insn struct {
	code   uint16
	k      uint32
	jt, jf label // for conditional jumps; ja jumps to jt
}

func isCond(code uint16) bool {
	return code == opJeq || code == opJgt || code == opJge || code == opJset
}

// assembler collects instructions and labels, then resolves the jumps.
type assembler struct {
	insns []insn
	at    []int // at[label] = index of the instruction it is bound to
}

func (a *assembler) newLabel() label {
	a.at = append(a.at, -1)
	return label(len(a.at) - 1)
}

// bind places l at the next instruction to be emitted.
func (a *assembler) bind(l label) { a.at[l] = len(a.insns) }

func (a *assembler) load(off uint32) { a.emit(insn{code: opLoadAbs, k: off}) }
func (a *assembler) and(k uint32)    { a.emit(insn{code: opAndK, k: k}) }
func (a *assembler) ret(k uint32)    { a.emit(insn{code: opRetK, k: k}) }
func (a *assembler) jump(l label)    { a.emit(insn{code: opJa, jt: l}) }
func (a *assembler) cond(op uint16, k uint32, jt, jf label) {
	a.emit(insn{code: op, k: k, jt: jt, jf: jf})
}

func (a *assembler) emit(i insn) {
	if i.code != opJa && !isCond(i.code) {
		i.jt, i.jf = next, next
	}
	a.insns = append(a.insns, i)
}

// assemble relaxes far conditional jumps into trampolines and encodes the
// program.
func (a *assembler) assemble() ([]instruction, error) {
	for a.relax() {
	}
	out := make([]instruction, len(a.insns))
	for i, in := range a.insns {
		enc, err := a.encode(i, in)
		if err != nil {
			return nil, err
		}
		out[i] = enc
	}
	if len(out) > maxInstructions {
		return nil, fmt.Errorf("filter of %d instructions is longer than the kernel's limit of %d", len(out), maxInstructions)
	}
	return out, nil
}

// relax makes one pass, giving every conditional jump that cannot reach its
// target a trampoline right after it. Inserting moves later code further away,
// so passes repeat until none is needed.
func (a *assembler) relax() bool {
	changed := false
	for i := 0; i < len(a.insns); i++ {
		in := a.insns[i]
		if !isCond(in.code) {
			continue
		}
		if !a.far(i, in.jt) && !a.far(i, in.jf) {
			continue
		}
		// Trampolines go right after the jump: a fall-through side must now
		// name the instruction that followed it.
		in.jt, in.jf = a.concrete(i, in.jt), a.concrete(i, in.jf)
		slot := i + 1
		if a.far(i, in.jt) {
			in.jt = a.insertJump(slot, in.jt)
			slot++
			changed = true
		}
		if a.far(i, in.jf) {
			in.jf = a.insertJump(slot, in.jf)
			changed = true
		}
		a.insns[i] = in
	}
	return changed
}

// concrete turns next, as seen from the jump at i, into a label.
func (a *assembler) concrete(i int, l label) label {
	if l != next {
		return l
	}
	l = a.newLabel()
	a.at[l] = i + 1
	return l
}

// far reports whether the conditional jump at i cannot reach l.
func (a *assembler) far(i int, l label) bool { return l != next && a.at[l]-(i+1) > 255 }

// insertJump puts "ja target" at index p and returns its label.
func (a *assembler) insertJump(p int, target label) label {
	for l, at := range a.at {
		if at >= p {
			a.at[l]++
		}
	}
	a.insns = append(a.insns, insn{})
	copy(a.insns[p+1:], a.insns[p:])
	a.insns[p] = insn{code: opJa, jt: target, jf: next}
	t := a.newLabel()
	a.at[t] = p
	return t
}

func (a *assembler) offset(from int, l label) (int, error) {
	if l == next {
		return 0, nil
	}
	if a.at[l] < 0 {
		return 0, fmt.Errorf("assemble filter: label %d never bound", l)
	}
	d := a.at[l] - (from + 1)
	if d < 0 {
		return 0, fmt.Errorf("assemble filter: backward jump at %d", from)
	}
	return d, nil
}

func (a *assembler) encode(i int, in insn) (instruction, error) {
	switch {
	case in.code == opJa:
		d, err := a.offset(i, in.jt)
		return instruction{Code: opJa, K: uint32(d)}, err
	case isCond(in.code):
		jt, err1 := a.offset(i, in.jt)
		jf, err2 := a.offset(i, in.jf)
		if err := errors.Join(err1, err2); err != nil {
			return instruction{}, err
		}
		if jt > 255 || jf > 255 {
			return instruction{}, fmt.Errorf("assemble filter: jump at %d out of range", i)
		}
		return instruction{Code: in.code, Jt: uint8(jt), Jf: uint8(jf), K: in.k}, nil
	}
	return instruction{Code: in.code, K: in.k}, nil
}

// marshal lays the program out as the kernel's struct sock_filter array.
func marshal(prog []instruction) []byte {
	b := make([]byte, 0, 8*len(prog))
	for _, in := range prog {
		b = binary.NativeEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.NativeEndian.AppendUint32(b, in.K)
	}
	return b
}

// unmarshal is the inverse of marshal.
func unmarshal(b []byte) ([]instruction, error) {
	if len(b) == 0 || len(b)%8 != 0 {
		return nil, fmt.Errorf("filter of %d bytes is not a list of 8-byte instructions", len(b))
	}
	if len(b)/8 > maxInstructions {
		return nil, fmt.Errorf("filter of %d instructions is longer than the kernel's limit of %d", len(b)/8, maxInstructions)
	}
	prog := make([]instruction, len(b)/8)
	for i := range prog {
		c := b[8*i:]
		prog[i] = instruction{
			Code: binary.NativeEndian.Uint16(c),
			Jt:   c[2], Jf: c[3],
			K: binary.NativeEndian.Uint32(c[4:]),
		}
	}
	return prog, nil
}
