package caps

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  string
	}{
		{in: "CAP_CHOWN", want: 0},
		{in: "chown", want: 0},
		{in: "CAP_NET_ADMIN", want: 12},
		{in: "net_admin", want: 12},
		{in: "Net_Admin", want: 12},
		{in: " cap_sys_admin ", want: 21},
		{in: "SYS_CHROOT", want: SysChroot},
		{in: "CAP_CHECKPOINT_RESTORE", want: 40},
		{in: "bpf", want: 39},
		{in: "NET_ADMINN", err: `unknown capability "NET_ADMINN"`},
		{in: "ALL", err: "unknown capability"},
		{in: "", err: "unknown capability"},
		{in: "CAP_", err: "unknown capability"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q) = %d, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestNamesRoundTrip(t *testing.T) {
	for c := 0; c <= Last; c++ {
		got, err := Parse(Name(c))
		if err != nil || got != c {
			t.Errorf("Parse(Name(%d)=%q) = %d, %v", c, Name(c), got, err)
		}
	}
	if got := Name(41); got != "CAP_41" {
		t.Errorf("Name(41) = %q, want CAP_41", got)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		m    uint64
		want string
	}{
		{0, "none"},
		{All, "ALL"},
		{1<<0 | 1<<5, "CAP_CHOWN,CAP_KILL"},
		{1 << 21, "CAP_SYS_ADMIN"},
		{1 << 41, "CAP_41"},
		{Default, "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_SETGID,CAP_SETUID,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_SETFCAP"},
	}
	for _, tt := range tests {
		if got := Format(tt.m); got != tt.want {
			t.Errorf("Format(%#x) = %q, want %q", tt.m, got, tt.want)
		}
	}
}

func TestDefaultIsPodmans(t *testing.T) {
	// The mask podman and crun show as CapBnd/CapEff for root in a container.
	if Default != 0x800405fb {
		t.Errorf("Default = %#x (%s), want 0x800405fb", Default, Format(Default))
	}
	if All != 0x1ffffffffff {
		t.Errorf("All = %#x, want 0x1ffffffffff", All)
	}
}

// mask is the set of the named capabilities.
func mask(list ...string) uint64 {
	m, _, err := ParseList(list)
	if err != nil {
		panic(err)
	}
	return m
}

func TestDefaultNames(t *testing.T) {
	want := mask("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL",
		"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT")
	if Default != want {
		t.Errorf("Default = %s, want %s", Format(Default), Format(want))
	}
}

func TestCompute(t *testing.T) {
	bit := func(names ...string) uint64 { return mask(names...) }
	tests := []struct {
		name string
		f    Flags
		want uint64
		err  string
	}{
		{name: "default", want: Default},
		{name: "add one", f: Flags{Add: []string{"NET_ADMIN"}}, want: Default | bit("NET_ADMIN")},
		{name: "add lower case with prefix", f: Flags{Add: []string{"cap_sys_admin"}}, want: Default | bit("SYS_ADMIN")},
		{name: "add comma list", f: Flags{Add: []string{"NET_RAW,SYS_TIME"}}, want: Default | bit("NET_RAW", "SYS_TIME")},
		{name: "add already present", f: Flags{Add: []string{"CHOWN"}}, want: Default},
		{name: "drop one", f: Flags{Drop: []string{"chown"}}, want: Default &^ bit("CHOWN")},
		{name: "drop absent", f: Flags{Drop: []string{"SYS_ADMIN"}}, want: Default},
		{name: "drop all", f: Flags{Drop: []string{"ALL"}}, want: 0},
		{name: "drop all add some", f: Flags{Drop: []string{"all"}, Add: []string{"NET_BIND_SERVICE", "KILL"}}, want: bit("NET_BIND_SERVICE", "KILL")},
		{name: "add all", f: Flags{Add: []string{"ALL"}}, want: All},
		{name: "add all drop some", f: Flags{Add: []string{"ALL"}, Drop: []string{"SYS_ADMIN", "sys_module"}}, want: All &^ bit("SYS_ADMIN", "SYS_MODULE")},
		{name: "privileged", f: Flags{Privileged: true}, want: All},
		{name: "privileged drop", f: Flags{Privileged: true, Drop: []string{"SYS_ADMIN"}}, want: All &^ bit("SYS_ADMIN")},
		{name: "privileged drop all", f: Flags{Privileged: true, Drop: []string{"ALL"}}, want: 0},
		{name: "empty values ignored", f: Flags{Add: []string{"", " , "}}, want: Default},
		{name: "unknown add", f: Flags{Add: []string{"NET_ADMINN"}}, err: `--cap-add: unknown capability "NET_ADMINN"`},
		{name: "unknown drop", f: Flags{Drop: []string{"bogus"}}, err: `--cap-drop: unknown capability "bogus"`},
		{name: "add and drop", f: Flags{Add: []string{"NET_ADMIN"}, Drop: []string{"net_admin"}}, err: "CAP_NET_ADMIN is both added and dropped"},
		{name: "all both", f: Flags{Add: []string{"ALL"}, Drop: []string{"ALL"}}, err: "contradict"},
		// Root on these hosts lacks CAP_SYS_RESOURCE (24).
		{name: "privileged gets what is there", f: Flags{Privileged: true, Available: All &^ bit("SYS_RESOURCE")}, want: All &^ bit("SYS_RESOURCE")},
		{name: "add all gets what is there", f: Flags{Add: []string{"ALL"}, Available: All &^ bit("SYS_RESOURCE")}, want: All &^ bit("SYS_RESOURCE")},
		{name: "default minus the missing", f: Flags{Available: Default &^ bit("SETFCAP")}, want: Default &^ bit("SETFCAP")},
		{name: "add the missing", f: Flags{Add: []string{"SYS_RESOURCE"}, Available: All &^ bit("SYS_RESOURCE")}, err: "--cap-add CAP_SYS_RESOURCE: ccrun's own bounding set lacks it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Compute(tt.f)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Compute() = %+v, %v; want error containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Sets{Bounding: tt.want, Permitted: tt.want, Effective: tt.want}
			if got != want {
				t.Errorf("Compute() bounding %s\nwant %s", Format(got.Bounding), Format(tt.want))
			}
		})
	}
}
