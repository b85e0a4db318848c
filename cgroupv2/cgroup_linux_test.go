package cgroupv2

import (
	"errors"
	"strings"
	"testing"
)

func TestKeepDropsDefaultsAndRefusesRequests(t *testing.T) {
	c := &Cgroup{Dir: "/sys/fs/cgroup/x.scope", fix: func(ctl string) string { return "delegate " + ctl }}
	kept, err := c.keep(Limits{}.Plan(), []string{"memory"})
	if err != nil || len(kept) != 0 {
		t.Errorf("default pids.max without pids: kept %v, %v; want it dropped quietly", kept, err)
	}
	kept, err = c.keep(Limits{Memory: 32 << 20}.Plan(), []string{"memory", "pids"})
	if err != nil || planString(kept) != "memory.max=33554432! memory.swap.max=33554432? pids.max=2048" {
		t.Errorf("all controllers there: kept %s, %v", planString(kept), err)
	}
	_, err = c.keep(Limits{CPUs: 1}.Plan(), []string{"memory", "pids"})
	var ce *ControllerError
	if !errors.As(err, &ce) || ce.Fix != "delegate cpu" || ce.Flag != "--cpus" ||
		!strings.Contains(err.Error(), "set --cpus: the cpu controller is not delegated to /sys/fs/cgroup/x.scope (it has: memory pids)") {
		t.Errorf("--cpus without cpu: %v (%+v)", err, ce)
	}
}

func TestSystemdFixNamesTheDropIn(t *testing.T) {
	fix := systemdFix(Bus{User: true, UID: 1001})("cpu")
	for _, want := range []string{"/etc/systemd/system/user@.service.d/delegate.conf", `[Service]\nDelegate=cpu cpuset io memory pids`,
		"systemctl daemon-reload", "user@1001.service"} {
		if !strings.Contains(fix, want) {
			t.Errorf("user fix lacks %q:\n%s", want, fix)
		}
	}
	if fix := systemdFix(Bus{})("cpu"); !strings.Contains(fix, "cgroup.controllers") {
		t.Errorf("system fix: %s", fix)
	}
}
