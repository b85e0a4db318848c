package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ccrun/ccrun/cgroupv2"
	"github.com/ccrun/ccrun/rootless"
)

func TestChooseCgroupManager(t *testing.T) {
	notWritable := errors.New("permission denied")
	user := cgroupv2.Bus{User: true, UID: 1000}
	tests := []struct {
		name      string
		h         cgroupHost
		requested []string
		want      cgroupManager
		wantErr   string // in the error; "" for none
		wantHint  string // in the hint
	}{
		{"v1 host, root: v1 cgroups", cgroupHost{layout: cgroupv2.Hybrid}, []string{"--memory"}, v1Cgroups, "", ""},
		{"v1 host, root, nothing asked: v1 (default pids.max)", cgroupHost{layout: cgroupv2.Legacy}, nil, v1Cgroups, "", ""},
		{"v1 host, rootless, nothing asked: no cgroup, no error", cgroupHost{layout: cgroupv2.Hybrid, rootless: true}, nil, noCgroup, "", ""},
		{"v1 host, rootless, a limit asked: refused with the fix", cgroupHost{layout: cgroupv2.Hybrid, rootless: true},
			[]string{"--memory", "--cpus"}, noCgroup, "--memory, --cpus: this host has cgroup v1", "systemd.unified_cgroup_hierarchy=1"},
		{"v2, rootless, user bus: systemd", cgroupHost{layout: cgroupv2.Unified, rootless: true, bus: user, systemd: true, writable: notWritable},
			nil, systemdScope, "", ""},
		{"v2, root, systemd: systemd even though writable", cgroupHost{layout: cgroupv2.Unified, systemd: true}, nil, systemdScope, "", ""},
		{"v2, root, no systemd, writable: direct", cgroupHost{layout: cgroupv2.Unified}, []string{"--memory"}, directCgroup, "", ""},
		{"v2, forced cgroupfs under systemd", cgroupHost{layout: cgroupv2.Unified, systemd: true, force: "cgroupfs"}, nil, directCgroup, "", ""},
		{"v2, forced systemd without a bus", cgroupHost{layout: cgroupv2.Unified, force: "systemd"}, nil, systemdScope, "", ""},
		{"v2, rootless, no bus, nothing asked: no cgroup", cgroupHost{layout: cgroupv2.Unified, rootless: true, bus: user, writable: notWritable},
			nil, noCgroup, "", ""},
		{"v2, rootless, no bus, a limit asked: refused", cgroupHost{layout: cgroupv2.Unified, rootless: true, bus: user, writable: notWritable},
			[]string{"--pids-limit"}, noCgroup, "--pids-limit: no cgroup to enforce it in", "loginctl enable-linger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chooseCgroupManager(tt.h, tt.requested)
			if got != tt.want {
				t.Errorf("manager = %v, want %v", got, tt.want)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("error %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			var h *rootless.HintError
			if !errors.As(err, &h) || !strings.Contains(h.Hint, tt.wantHint) {
				t.Errorf("hint of %v does not contain %q", err, tt.wantHint)
			}
		})
	}
}

func TestLimitsFromOptions(t *testing.T) {
	tests := []struct {
		o       runOptions
		want    string // fmt %+v of the limits
		wantErr string
	}{
		{runOptions{}, "{Memory:0 MemorySwap:0 CPUs:0 CPUShares:0 Pids:0}", ""},
		{runOptions{memory: "32m", memorySwap: "-1"}, "{Memory:33554432 MemorySwap:-1 CPUs:0 CPUShares:0 Pids:0}", ""},
		{runOptions{memory: "64m", memorySwap: "128m", cpus: 0.5, cpuShares: 512},
			"{Memory:67108864 MemorySwap:134217728 CPUs:0.5 CPUShares:512 Pids:0}", ""},
		{runOptions{pidsLimit: 100, pidsLimitSet: true}, "{Memory:0 MemorySwap:0 CPUs:0 CPUShares:0 Pids:100}", ""},
		{runOptions{pidsLimit: 0, pidsLimitSet: true}, "{Memory:0 MemorySwap:0 CPUs:0 CPUShares:0 Pids:-1}", ""}, // docker: 0 is none
		{runOptions{pidsLimit: -1, pidsLimitSet: true}, "{Memory:0 MemorySwap:0 CPUs:0 CPUShares:0 Pids:-1}", ""},
		{runOptions{memory: "lots"}, "", "--memory: size \"lots\""},
		{runOptions{memory: "1m"}, "", "below the minimum"},
		{runOptions{memorySwap: "1g"}, "", "needs --memory too"},
		{runOptions{cpus: 10000}, "", "the range is 0.01 to"},
	}
	for _, tt := range tests {
		l, err := limitsFromOptions(&tt.o)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("limitsFromOptions(%+v): error %v, want one containing %q", tt.o, err, tt.wantErr)
			}
			continue
		}
		if err != nil || fmt.Sprintf("%+v", l) != tt.want {
			t.Errorf("limitsFromOptions(%+v) = %+v, %v; want %s", tt.o, l, err, tt.want)
		}
	}
}
