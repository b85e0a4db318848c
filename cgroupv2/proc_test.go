package cgroupv2

import (
	"slices"
	"testing"
)

// hybridCgroup is /proc/self/cgroup on this project's build machines (cgroup v1
// hybrid, memory in a sub-cgroup).
const hybridCgroup = `9:name=systemd:/
8:pids:/
4:memory:/process_api/472552a3
2:cpu,cpuacct:/
0::/
`

func TestParseProcCgroup(t *testing.T) {
	ms, err := ParseProcCgroup(hybridCgroup)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 5 {
		t.Fatalf("got %d lines, want 5: %+v", len(ms), ms)
	}
	tests := []struct {
		controller, want string
		ok               bool
	}{
		{"memory", "/process_api/472552a3", true},
		{"cpu", "/", true},
		{"cpuacct", "/", true},
		{"pids", "/", true},
		{"io", "", false},
	}
	for _, tt := range tests {
		got, ok := ControllerPath(ms, tt.controller)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ControllerPath(%s) = %q, %v; want %q, %v", tt.controller, got, ok, tt.want, tt.ok)
		}
	}
	if p, ok := UnifiedPath(ms); p != "/" || !ok {
		t.Errorf("UnifiedPath = %q, %v; want /, true", p, ok)
	}

	v2, err := ParseProcCgroup("0::/user.slice/user-1000.slice/user@1000.service/user.slice/ccrun-ab.scope/supervisor\n")
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := UnifiedPath(v2); p != "/user.slice/user-1000.slice/user@1000.service/user.slice/ccrun-ab.scope/supervisor" {
		t.Errorf("UnifiedPath = %q", p)
	}
	if _, ok := ControllerPath(v2, "memory"); ok {
		t.Error("ControllerPath(memory) found a v1 hierarchy in a v2-only file")
	}
	if _, err := ParseProcCgroup("garbage\n"); err == nil {
		t.Error("ParseProcCgroup accepted a line without colons")
	}
}

const mountinfo = `22 1 254:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 22 0:38 /ccrun/x /mnt/my\040cgroup rw - cgroup2 cgroup2 rw,nsdelegate
`

func TestParseMountinfo(t *testing.T) {
	ms := ParseMountinfo(mountinfo)
	var points []string
	for _, m := range ms {
		points = append(points, m.Type+":"+m.Point)
	}
	want := []string{"cgroup:/sys/fs/cgroup/cpu,cpuacct", "cgroup:/sys/fs/cgroup/memory", "cgroup:/sys/fs/cgroup/pids",
		"cgroup2:/sys/fs/cgroup/unified", "cgroup2:/mnt/my cgroup"}
	if !slices.Equal(points, want) {
		t.Fatalf("mounts = %q\nwant %q", points, want)
	}
	if !ms[0].HasOption("cpu") || !ms[0].HasOption("cpuacct") || ms[0].HasOption("memory") {
		t.Errorf("options of %s = %q", ms[0].Point, ms[0].Options)
	}
	tests := []struct {
		m       Mount
		cgroup  string
		want    string
		visible bool
	}{
		{ms[1], "/process_api/x", "/sys/fs/cgroup/memory/process_api/x", true},
		{ms[3], "/", "/sys/fs/cgroup/unified", true},
		{ms[4], "/ccrun/x/container", "/mnt/my cgroup/container", true},
		{ms[4], "/ccrun/x", "/mnt/my cgroup", true},
		{ms[4], "/ccrun/xy", "", false}, // a sibling with a common prefix is not below the root
		{ms[4], "/other", "", false},
	}
	for _, tt := range tests {
		got, ok := tt.m.Dir(tt.cgroup)
		if got != tt.want || ok != tt.visible {
			t.Errorf("%s.Dir(%s) = %q, %v; want %q, %v", tt.m.Point, tt.cgroup, got, ok, tt.want, tt.visible)
		}
	}
}
