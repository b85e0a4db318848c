package cgroupv2

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

const mib = 1 << 20

// planString renders writes as "file=value" with "!" after requested ones and "?"
// after optional ones, so a table can say exactly what it expects.
func planString(ws []Write) string {
	var out []string
	for _, w := range ws {
		s := w.File + "=" + w.Value
		if w.Requested {
			s += "!"
		}
		if w.Optional {
			s += "?"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name string
		l    Limits
		want string
	}{
		{"nothing asked: only the default pids.max", Limits{}, "pids.max=2048"},
		{"memory: swap as much as memory (docker)", Limits{Memory: 32 * mib},
			"memory.max=33554432! memory.swap.max=33554432? pids.max=2048"},
		{"memory-swap equal to memory: no swap", Limits{Memory: 32 * mib, MemorySwap: 32 * mib},
			"memory.max=33554432! memory.swap.max=0!? pids.max=2048"},
		{"memory-swap is memory plus swap", Limits{Memory: 32 * mib, MemorySwap: 100 * mib},
			"memory.max=33554432! memory.swap.max=71303168!? pids.max=2048"},
		{"memory-swap -1: unlimited swap", Limits{Memory: 32 * mib, MemorySwap: -1},
			"memory.max=33554432! memory.swap.max=max!? pids.max=2048"},
		{"cpus 0.5", Limits{CPUs: 0.5}, "cpu.max=50000 100000! pids.max=2048"},
		{"cpus 1.5", Limits{CPUs: 1.5}, "cpu.max=150000 100000! pids.max=2048"},
		{"cpus 0.01 rounds, not truncates", Limits{CPUs: 0.01}, "cpu.max=1000 100000! pids.max=2048"},
		{"cpu-shares 1024 is weight 39", Limits{CPUShares: 1024}, "cpu.weight=39! pids.max=2048"},
		{"pids-limit 64", Limits{Pids: 64}, "pids.max=64!"},
		{"pids-limit -1: none", Limits{Pids: -1}, "pids.max=max!"},
		{"everything", Limits{Memory: 64 * mib, MemorySwap: 64 * mib, CPUs: 1, CPUShares: 512, Pids: 100},
			"memory.max=67108864! memory.swap.max=0!? cpu.max=100000 100000! cpu.weight=20! pids.max=100!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := planString(tt.l.Plan()); got != tt.want {
				t.Errorf("Plan(%+v)\n got %s\nwant %s", tt.l, got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		l       Limits
		wantErr string // "" for valid
	}{
		{Limits{}, ""},
		{Limits{Memory: 6 * mib}, ""},
		{Limits{Memory: 5 * mib}, "below the minimum of 6 MiB"},
		{Limits{Memory: -1}, "must not be negative"},
		{Limits{MemorySwap: 64 * mib}, "needs --memory too"},
		{Limits{MemorySwap: -1}, ""},
		{Limits{Memory: 64 * mib, MemorySwap: 32 * mib}, "less than --memory 64 MiB"},
		{Limits{Memory: 64 * mib, MemorySwap: 64 * mib}, ""},
		{Limits{CPUs: 2}, ""},
		{Limits{CPUs: 2.5}, "the range is 0.01 to 2"},
		{Limits{CPUs: 0.001}, "the range is 0.01 to 2"},
		{Limits{CPUs: -1}, "must be a positive number"},
		{Limits{CPUShares: -5}, "must not be negative"},
		{Limits{Pids: -1}, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.l), func(t *testing.T) {
			err := tt.l.Validate(2)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate: %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRequested(t *testing.T) {
	tests := []struct {
		l    Limits
		want []string
	}{
		{Limits{}, nil},
		{Limits{Pids: -1}, nil}, // asks for no limit
		{Limits{Memory: 1, MemorySwap: -1, CPUs: 1, CPUShares: 2, Pids: 5},
			[]string{"--memory", "--memory-swap", "--cpus", "--cpu-shares", "--pids-limit"}},
	}
	for _, tt := range tests {
		if got := tt.l.Requested(); !slices.Equal(got, tt.want) {
			t.Errorf("%+v.Requested() = %q, want %q", tt.l, got, tt.want)
		}
	}
}

func TestSharesToWeight(t *testing.T) {
	tests := []struct {
		shares int64
		want   uint64
	}{
		{2, 1}, {1, 1}, {0, 1}, // clamped to the v1 minimum
		{1024, 39}, {512, 20}, {2048, 79},
		{262144, 10000}, {1 << 30, 10000}, // clamped to the v1 maximum
	}
	for _, tt := range tests {
		if got := SharesToWeight(tt.shares); got != tt.want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", tt.shares, got, tt.want)
		}
	}
}

func TestControllers(t *testing.T) {
	l := Limits{Memory: 32 * mib, CPUs: 1, CPUShares: 100}
	if got, want := Controllers(l.Plan()), []string{"memory", "cpu", "pids"}; !slices.Equal(got, want) {
		t.Errorf("Controllers = %q, want %q", got, want)
	}
}

func TestOOMMessage(t *testing.T) {
	events := "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n"
	if got := EventCount(events, "oom_kill"); got != 1 {
		t.Fatalf("EventCount(oom_kill) = %d, want 1", got)
	}
	if got := EventCount(events, "oom"); got != 1 {
		t.Fatalf("EventCount(oom) = %d, want 1 (not confused with oom_kill)", got)
	}
	tests := []struct {
		kills, limit int64
		want         string
	}{
		{0, 32 * mib, ""},
		{1, 32 * mib, "container killed: out of memory (limit 32 MiB)"},
		{3, 1536 * mib, "container killed: out of memory (limit 1.5 GiB)"},
		{1, 0, "container killed: out of memory"},
	}
	for _, tt := range tests {
		if got := OOMMessage(tt.kills, tt.limit); got != tt.want {
			t.Errorf("OOMMessage(%d, %d) = %q, want %q", tt.kills, tt.limit, got, tt.want)
		}
	}
}
