package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ccrun/ccrun/rootless/caps"
	"github.com/ccrun/ccrun/rootless/seccomp"
)

func TestSecurityConfig(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.json")
	if err := os.WriteFile(profile, []byte(`{"defaultAction": "SCMP_ACT_ERRNO",
		"syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"defaultAction": "SCMP_ACT_DENY"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	defaultProg, err := seccomp.Default().Compile(caps.Default)
	if err != nil {
		t.Fatal(err)
	}
	const sysAdmin = uint64(1) << caps.SysAdmin
	// --privileged means whatever this process's bounding set holds (root on
	// these hosts lacks CAP_SYS_RESOURCE); rootless, every capability.
	avail := availableCaps()
	if avail&caps.Default != caps.Default || avail&sysAdmin == 0 {
		t.Skipf("this process's bounding set %s lacks default capabilities", caps.Format(avail))
	}
	tests := []struct {
		name       string
		o          runOptions
		caps       uint64
		nnp        bool
		seccomp    string // "default", "none", "custom"
		privileged bool
		err        string
	}{
		{name: "defaults", caps: caps.Default, nnp: true, seccomp: "default"},
		{name: "cap-add", o: runOptions{capAdd: []string{"SYS_ADMIN"}}, caps: caps.Default | sysAdmin, nnp: true, seccomp: "custom"},
		{name: "cap-drop all", o: runOptions{capDrop: []string{"ALL"}}, caps: 0, nnp: true, seccomp: "custom"},
		{name: "nnp off", o: runOptions{securityOpt: []string{"no-new-privileges=false"}}, caps: caps.Default, nnp: false, seccomp: "default"},
		{name: "nnp off colon", o: runOptions{securityOpt: []string{"no-new-privileges:false"}}, caps: caps.Default, nnp: false, seccomp: "default"},
		{name: "nnp bare", o: runOptions{securityOpt: []string{"no-new-privileges=false", "no-new-privileges"}}, caps: caps.Default, nnp: true, seccomp: "default"},
		{name: "unconfined", o: runOptions{securityOpt: []string{"seccomp=unconfined"}}, caps: caps.Default, nnp: true, seccomp: "none"},
		{name: "profile", o: runOptions{securityOpt: []string{"seccomp=" + profile}}, caps: caps.Default, nnp: true, seccomp: "custom"},
		{name: "privileged", o: runOptions{privileged: true}, caps: avail, nnp: true, seccomp: "none", privileged: true},
		{name: "privileged with profile", o: runOptions{privileged: true, securityOpt: []string{"seccomp=" + profile}}, caps: avail, nnp: true, seccomp: "custom", privileged: true},
		{name: "privileged cap-drop", o: runOptions{privileged: true, capDrop: []string{"SYS_ADMIN"}}, caps: avail &^ sysAdmin, nnp: true, seccomp: "none", privileged: true},
		{name: "no lsm asked", o: runOptions{securityOpt: []string{"label=disable", "apparmor=unconfined"}}, caps: caps.Default, nnp: true, seccomp: "default"},

		{name: "unknown cap", o: runOptions{capAdd: []string{"NET_ADMINN"}}, err: `--cap-add: unknown capability "NET_ADMINN"`},
		{name: "add and drop", o: runOptions{capAdd: []string{"KILL"}, capDrop: []string{"kill"}}, err: "both added and dropped"},
		{name: "nnp garbage", o: runOptions{securityOpt: []string{"no-new-privileges=maybe"}}, err: "want no-new-privileges=true or no-new-privileges=false"},
		{name: "empty seccomp", o: runOptions{securityOpt: []string{"seccomp="}}, err: "want seccomp=unconfined or seccomp=PROFILE.json"},
		{name: "unknown option", o: runOptions{securityOpt: []string{"systempaths=unconfined"}}, err: "unknown option; ccrun knows no-new-privileges"},
		{name: "no separator", o: runOptions{securityOpt: []string{"seccomp"}}, err: "want seccomp=unconfined"},
		{name: "apparmor profile", o: runOptions{securityOpt: []string{"apparmor=docker-default"}}, err: "applies no AppArmor profile"},
		{name: "missing profile", o: runOptions{securityOpt: []string{"seccomp=" + filepath.Join(dir, "nope.json")}}, err: "read seccomp profile: open " + dir},
		{name: "broken profile", o: runOptions{securityOpt: []string{"seccomp=" + broken}}, err: `seccomp profile ` + broken + `: check seccomp profile: defaultAction: unknown action "SCMP_ACT_DENY"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := securityConfig(&tt.o)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("securityConfig() error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := got.Caps
			if c.Bounding != tt.caps || c.Permitted != tt.caps || c.Effective != tt.caps || c.Inheritable != 0 || c.Ambient != 0 {
				t.Errorf("caps = %+v, want bounding=permitted=effective=%s and no inheritable or ambient", c, caps.Format(tt.caps))
			}
			if got.NoNewPrivileges != tt.nnp || got.Privileged != tt.privileged {
				t.Errorf("no_new_privs %v privileged %v, want %v %v", got.NoNewPrivileges, got.Privileged, tt.nnp, tt.privileged)
			}
			switch tt.seccomp {
			case "none":
				if len(got.Seccomp) != 0 {
					t.Errorf("seccomp filter of %d bytes, want none", len(got.Seccomp))
				}
			case "default":
				if string(got.Seccomp) != string(defaultProg) {
					t.Errorf("seccomp filter is not the default profile's")
				}
			case "custom":
				if len(got.Seccomp) == 0 || string(got.Seccomp) == string(defaultProg) {
					t.Errorf("seccomp filter of %d bytes, want one compiled for these flags", len(got.Seccomp))
				}
			}
		})
	}
}

func TestSecurityOptErrorsAreUsageErrors(t *testing.T) {
	for _, v := range []string{"bogus", "no-new-privileges=2", "seccomp="} {
		_, err := securityConfig(&runOptions{securityOpt: []string{v}})
		if !isUsage(err) {
			t.Errorf("--security-opt %s: error %v is not a usage error", v, err)
		}
	}
	if _, err := securityConfig(&runOptions{capAdd: []string{"nope"}}); !isUsage(err) {
		t.Errorf("--cap-add nope: error %v is not a usage error", err)
	}
}

// As root a container can get what this process's bounding set holds;
// rootless, every capability the kernel has (cap_last_cap).
func TestAvailableCaps(t *testing.T) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var want uint64
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:\t"); ok {
			want, err = strconv.ParseUint(v, 16, 64)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if rootlessMode() {
		b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
		if err != nil {
			t.Fatal(err)
		}
		last, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		want = 1<<(last+1) - 1
	}
	if got := availableCaps(); got != want&caps.All {
		t.Errorf("availableCaps() = %#x, want %#x", got, want)
	}
}
