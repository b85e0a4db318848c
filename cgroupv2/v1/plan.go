package v1

import (
	"fmt"
	"strconv"

	"github.com/ccrun/ccrun/cgroupv2"
)

// Plan turns the limits into cgroup v1 writes (Documentation/admin-guide/cgroup-v1/
// memory.rst, sched-bwc.rst, pids.rst). Order matters: memory.memsw.limit_in_bytes
// may never be below memory.limit_in_bytes, and cpu.cfs_quota_us is counted in
// periods of cpu.cfs_period_us. Call Limits.Validate first.
func Plan(l cgroupv2.Limits) []cgroupv2.Write {
	var w []cgroupv2.Write
	if l.Memory > 0 {
		w = append(w, cgroupv2.Write{Controller: "memory", File: "memory.limit_in_bytes", Value: itoa(l.Memory), Flag: "--memory", Requested: true})
		// v1 limits memory and swap together: memsw is docker's --memory-swap as is.
		memsw := cgroupv2.Write{Controller: "memory", File: "memory.memsw.limit_in_bytes", Flag: "--memory-swap", Requested: l.MemorySwap != 0, Optional: true}
		switch l.MemorySwap {
		case 0: // docker: as much swap as memory
			memsw.Value = itoa(2 * l.Memory)
		case -1:
			memsw.Value = "-1"
		default:
			memsw.Value = itoa(l.MemorySwap)
		}
		w = append(w, memsw)
	}
	if l.CPUs > 0 {
		w = append(w,
			cgroupv2.Write{Controller: "cpu", File: "cpu.cfs_period_us", Value: itoa(cgroupv2.CPUPeriod), Flag: "--cpus", Requested: true},
			cgroupv2.Write{Controller: "cpu", File: "cpu.cfs_quota_us", Value: itoa(cgroupv2.CPUQuota(l.CPUs)), Flag: "--cpus", Requested: true})
	}
	if l.CPUShares > 0 {
		w = append(w, cgroupv2.Write{Controller: "cpu", File: "cpu.shares", Value: itoa(cgroupv2.ClampShares(l.CPUShares)), Flag: "--cpu-shares", Requested: true})
	}
	return append(w, l.PidsWrite())
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// hierarchyError is a requested limit whose controller has no v1 hierarchy.
func hierarchyError(w cgroupv2.Write) error {
	return fmt.Errorf("set %s: no cgroup v1 hierarchy has the %s controller mounted", w.Flag, w.Controller)
}
