package cgroupv2

import (
	"fmt"
	"math"
	"strconv"
)

// DefaultPids is pids.max when --pids-limit is not given and a cgroup is available:
// far more than any real service forks, few enough that a fork bomb stops there.
const DefaultPids = 2048

// CPUPeriod is the CFS bandwidth period ccrun uses, in microseconds: the kernel's
// default, and docker's. --cpus 1.5 is a quota of 150000 µs in every 100000 µs.
const CPUPeriod = 100000

// MinMemory is the smallest --memory accepted, docker's: below it the container's
// own init is killed before it can start anything.
const MinMemory = 6 << 20

// Limits are the resource limits asked for one container, in docker's terms. The
// zero value asks for nothing (and gets the default pids.max when a cgroup exists).
type Limits struct {
	// Memory is --memory in bytes; 0: no limit.
	Memory int64
	// MemorySwap is --memory-swap: memory PLUS swap, in bytes (docker's meaning).
	// 0: not given, the container may swap as much as Memory; -1: unlimited swap.
	MemorySwap int64
	// CPUs is --cpus: how many CPUs' worth of time per period; 0: no limit.
	CPUs float64
	// CPUShares is --cpu-shares, the cgroup v1 relative weight (1024 is normal);
	// 0: not given.
	CPUShares int64
	// Pids is --pids-limit; 0: not given (DefaultPids applies); negative: no limit.
	Pids int64
}

// Write is one value written to one file of the container's cgroup: the plan the
// limits turn into, applied by a short loop (see Cgroup.Limit).
type Write struct {
	Controller string // the controller the file belongs to: "memory", "cpu", "pids"
	File       string // "memory.max"
	Value      string // "33554432"
	// Flag is the command-line request the write comes from, for error messages.
	Flag string
	// Requested is false for defaults: a default whose controller is not there is
	// dropped, a requested value is an error (a limit is never silently ignored).
	Requested bool
	// Optional files may not exist (memory.swap.max without swap accounting); a
	// missing optional file is skipped, unless the value was requested.
	Optional bool
}

// Validate checks the limits the way docker does, against the number of CPUs the
// container could use at most.
func (l Limits) Validate(ncpu int) error {
	if l.Memory < 0 {
		return fmt.Errorf("--memory %d: must not be negative", l.Memory)
	}
	if l.Memory > 0 && l.Memory < MinMemory {
		return fmt.Errorf("--memory %s: below the minimum of %s", FormatBytes(l.Memory), FormatBytes(MinMemory))
	}
	if l.MemorySwap != 0 && l.MemorySwap != -1 {
		if l.Memory == 0 {
			return fmt.Errorf("--memory-swap %s: needs --memory too (it is memory plus swap)", FormatBytes(l.MemorySwap))
		}
		if l.MemorySwap < l.Memory {
			return fmt.Errorf("--memory-swap %s: less than --memory %s (it is memory plus swap)",
				FormatBytes(l.MemorySwap), FormatBytes(l.Memory))
		}
	}
	if l.CPUs < 0 || math.IsNaN(l.CPUs) || math.IsInf(l.CPUs, 0) {
		return fmt.Errorf("--cpus %g: must be a positive number", l.CPUs)
	}
	if l.CPUs > 0 && (CPUQuota(l.CPUs) < 1000 || l.CPUs > float64(ncpu)) {
		return fmt.Errorf("--cpus %g: the range is 0.01 to %d, as there are %d CPUs available", l.CPUs, ncpu, ncpu)
	}
	if l.CPUShares < 0 {
		return fmt.Errorf("--cpu-shares %d: must not be negative", l.CPUShares)
	}
	return nil
}

// Requested lists the flags that ask for a limit: a run without a cgroup must fail
// when this is not empty. --pids-limit -1 asks for none.
func (l Limits) Requested() []string {
	var flags []string
	if l.Memory > 0 {
		flags = append(flags, "--memory")
	}
	if l.MemorySwap != 0 {
		flags = append(flags, "--memory-swap")
	}
	if l.CPUs > 0 {
		flags = append(flags, "--cpus")
	}
	if l.CPUShares > 0 {
		flags = append(flags, "--cpu-shares")
	}
	if l.Pids > 0 {
		flags = append(flags, "--pids-limit")
	}
	return flags
}

// Plan turns the limits into cgroup v2 writes for the container's leaf
// (Documentation/admin-guide/cgroup-v2.rst). Call Validate first.
func (l Limits) Plan() []Write {
	var w []Write
	if l.Memory > 0 {
		w = append(w, Write{Controller: "memory", File: "memory.max", Value: itoa(l.Memory), Flag: "--memory", Requested: true})
		// cgroup v2 limits swap on its own: memory.swap.max is swap only.
		swap := Write{Controller: "memory", File: "memory.swap.max", Flag: "--memory-swap", Requested: l.MemorySwap != 0, Optional: true}
		switch l.MemorySwap {
		case 0: // docker: as much swap as memory
			swap.Value = itoa(l.Memory)
		case -1:
			swap.Value = "max"
		default:
			swap.Value = itoa(l.MemorySwap - l.Memory)
		}
		w = append(w, swap)
	}
	if l.CPUs > 0 {
		w = append(w, Write{Controller: "cpu", File: "cpu.max", Value: fmt.Sprintf("%d %d", CPUQuota(l.CPUs), CPUPeriod), Flag: "--cpus", Requested: true})
	}
	if l.CPUShares > 0 {
		w = append(w, Write{Controller: "cpu", File: "cpu.weight", Value: itoa(int64(SharesToWeight(l.CPUShares))), Flag: "--cpu-shares", Requested: true})
	}
	return append(w, l.PidsWrite())
}

// PidsWrite is the pids.max write: the pids controller has the same interface in
// cgroup v1 and v2.
func (l Limits) PidsWrite() Write {
	pw := Write{Controller: "pids", File: "pids.max", Value: itoa(DefaultPids), Flag: "--pids-limit"}
	switch {
	case l.Pids > 0:
		pw.Value, pw.Requested = itoa(l.Pids), true
	case l.Pids < 0:
		pw.Value, pw.Requested = "max", true
	}
	return pw
}

// CPUQuota is the CFS quota in microseconds per CPUPeriod for --cpus n.
func CPUQuota(cpus float64) int64 { return int64(math.Round(cpus * CPUPeriod)) }

// SharesToWeight converts cgroup v1 cpu.shares (2..262144, default 1024) to cgroup v2
// cpu.weight (1..10000, default 100) with the linear formula runc, crun and systemd
// use (OCI runtime-spec, "cgroup v2 conversion"): 1024 shares is weight 39, not 100,
// an oddity every runtime keeps for compatibility. Shares outside the v1 range are
// clamped first, as the v1 kernel itself does with cpu.shares.
func SharesToWeight(shares int64) uint64 {
	s := min(max(shares, 2), 262144)
	return uint64(1 + ((s-2)*9999)/262142)
}

// ClampShares is the cpu.shares value a cgroup v1 kernel would store.
func ClampShares(shares int64) int64 { return min(max(shares, 2), 262144) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Controllers lists the controllers the writes need, each once, in order.
func Controllers(writes []Write) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range writes {
		if !seen[w.Controller] {
			seen[w.Controller] = true
			out = append(out, w.Controller)
		}
	}
	return out
}
