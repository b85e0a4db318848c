package v1

import (
	"strings"
	"testing"

	"github.com/ccrun/ccrun/cgroupv2"
)

const mib = 1 << 20

func TestPlan(t *testing.T) {
	tests := []struct {
		name string
		l    cgroupv2.Limits
		want string // file=value, "!" after requested writes, "?" after optional ones
	}{
		{"nothing asked: only the default pids.max", cgroupv2.Limits{}, "pids.max=2048"},
		{"memory: memsw twice memory (docker: as much swap as memory)", cgroupv2.Limits{Memory: 32 * mib},
			"memory.limit_in_bytes=33554432! memory.memsw.limit_in_bytes=67108864? pids.max=2048"},
		{"memory-swap is memsw as is", cgroupv2.Limits{Memory: 32 * mib, MemorySwap: 32 * mib},
			"memory.limit_in_bytes=33554432! memory.memsw.limit_in_bytes=33554432!? pids.max=2048"},
		{"memory-swap -1", cgroupv2.Limits{Memory: 32 * mib, MemorySwap: -1},
			"memory.limit_in_bytes=33554432! memory.memsw.limit_in_bytes=-1!? pids.max=2048"},
		{"cpus: period before quota", cgroupv2.Limits{CPUs: 0.5},
			"cpu.cfs_period_us=100000! cpu.cfs_quota_us=50000! pids.max=2048"},
		{"cpu-shares as is, clamped like the kernel", cgroupv2.Limits{CPUShares: 1},
			"cpu.shares=2! pids.max=2048"},
		{"pids -1", cgroupv2.Limits{Pids: -1}, "pids.max=max!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, w := range Plan(tt.l) {
				s := w.File + "=" + w.Value
				if w.Requested {
					s += "!"
				}
				if w.Optional {
					s += "?"
				}
				got = append(got, s)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("Plan(%+v)\n got %s\nwant %s", tt.l, g, tt.want)
			}
		})
	}
}
