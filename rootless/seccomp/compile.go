package seccomp

import (
	"fmt"
)

// Compile turns the profile into a seccomp BPF program for a container whose
// bounding capability set is caps (bit N = capability N): rules that include
// or exclude capabilities are chosen here, once, so the program itself never
// looks at capabilities. The result is a serialized struct sock_filter array,
// ready for Install.
//
// The program (see the package documentation for why each step is there):
//
//  1. kills the process unless seccomp_data.arch is the native ABI, and kills
//     x32 syscalls on x86_64, so that no compat entry point bypasses the rules;
//  2. returns ENOSYS for syscall numbers above the highest one the profile names;
//  3. finds the syscall's decision by binary search over ranges of syscall
//     numbers with the same outcome, then compares arguments where rules have
//     them.
func (p *Profile) Compile(caps uint64) ([]byte, error) {
	a, err := nativeArch()
	if err != nil {
		return nil, err
	}
	prog, err := p.compile(env{arch: a, caps: caps, kernel: runningKernel()})
	if err != nil {
		return nil, err
	}
	return marshal(prog), nil
}

func (p *Profile) compile(e env) ([]instruction, error) {
	pl, err := p.resolve(e)
	if err != nil {
		return nil, fmt.Errorf("compile seccomp profile: %w", err)
	}
	prog, err := pl.emit()
	if err != nil {
		return nil, fmt.Errorf("compile seccomp profile: %w", err)
	}
	return prog, nil
}

// interval is a run of syscall numbers [lo, hi] with one decision.
type interval struct {
	lo, hi int
	d      *decision
}

// intervals covers 0..max, merging neighbours that simply return the same value.
func (pl *plan) intervals() []interval {
	var out []interval
	for nr := 0; nr <= pl.max; nr++ {
		d := pl.calls[nr]
		if d == nil {
			d = &decision{fallback: pl.def}
		}
		if n := len(out); n > 0 && d.simple() && out[n-1].d.simple() && out[n-1].d.fallback == d.fallback {
			out[n-1].hi = nr
			continue
		}
		out = append(out, interval{lo: nr, hi: nr, d: d})
	}
	return out
}

func (pl *plan) emit() ([]instruction, error) {
	a := &assembler{}
	kill, above := a.newLabel(), a.newLabel()
	a.load(offArch)
	a.cond(opJeq, pl.arch.audit, next, kill)
	a.load(offNr)
	if pl.max >= 0 {
		a.cond(opJgt, uint32(pl.max), above, next)
		emitTree(a, pl.intervals())
	}
	a.bind(above)
	if pl.arch.compatBit != 0 {
		a.cond(opJset, pl.arch.compatBit, kill, next)
	}
	a.ret(pl.newer)
	a.bind(kill)
	a.ret(retKillProcess)
	return a.assemble()
}

// emitTree emits a binary search over sorted intervals with A = syscall number:
// about log2(n) jumps to reach any syscall.
func emitTree(a *assembler, iv []interval) {
	if len(iv) == 1 {
		emitDecision(a, iv[0].d)
		return
	}
	mid := len(iv) / 2
	upper := a.newLabel()
	a.cond(opJge, uint32(iv[mid].lo), upper, next)
	emitTree(a, iv[:mid])
	a.bind(upper)
	emitTree(a, iv[mid:])
}

func emitDecision(a *assembler, d *decision) {
	for _, c := range d.checks {
		fail := a.newLabel()
		for _, arg := range c.args {
			emitArg(a, arg, fail)
		}
		a.ret(c.ret)
		a.bind(fail)
	}
	a.ret(d.fallback)
}

// emitArg falls through when the comparison holds and jumps to fail when not.
// A 64-bit comparison is made of two 32-bit ones: the high halves decide unless
// they are equal.
func emitArg(a *assembler, arg Arg, fail label) {
	hi, lo := uint32(arg.Value>>32), uint32(arg.Value)
	ok := a.newLabel()
	switch arg.Op {
	case OpEqualTo:
		a.load(argHigh(arg.Index))
		a.cond(opJeq, hi, next, fail)
		a.load(argLow(arg.Index))
		a.cond(opJeq, lo, next, fail)
	case OpNotEqual:
		a.load(argHigh(arg.Index))
		a.cond(opJeq, hi, next, ok)
		a.load(argLow(arg.Index))
		a.cond(opJeq, lo, fail, next)
	case OpMaskedEqual:
		emitMasked(a, arg, fail)
	case OpGreaterThan, OpGreaterEqual:
		a.load(argHigh(arg.Index))
		a.cond(opJgt, hi, ok, next)
		a.cond(opJeq, hi, next, fail)
		a.load(argLow(arg.Index))
		a.cond(lowOp(arg.Op), lo, next, fail)
	case OpLessThan, OpLessEqual: // the negations of >= and >
		a.load(argHigh(arg.Index))
		a.cond(opJgt, hi, fail, next)
		a.cond(opJeq, hi, next, ok)
		a.load(argLow(arg.Index))
		a.cond(lowOp(arg.Op), lo, fail, next)
	}
	a.bind(ok)
}

// lowOp is the jump that decides a comparison on the low halves: > for GT and
// its negation LE, >= for GE and its negation LT.
func lowOp(op Op) uint16 {
	if op == OpGreaterThan || op == OpLessEqual {
		return opJgt
	}
	return opJge
}

// emitMasked checks (arg & Value) == ValueTwo. A mask with no high bits (as for
// 32-bit arguments such as an ioctl request) needs no look at the high half.
func emitMasked(a *assembler, arg Arg, fail label) {
	mhi, mlo := uint32(arg.Value>>32), uint32(arg.Value)
	vhi, vlo := uint32(arg.ValueTwo>>32), uint32(arg.ValueTwo)
	if mhi != 0 || vhi != 0 {
		a.load(argHigh(arg.Index))
		a.and(mhi)
		a.cond(opJeq, vhi, next, fail)
	}
	a.load(argLow(arg.Index))
	a.and(mlo)
	a.cond(opJeq, vlo, next, fail)
}
