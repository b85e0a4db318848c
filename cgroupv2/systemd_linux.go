package cgroupv2

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// SystemdTimeout bounds each conversation with systemd: connecting, and starting
// the scope up to the end of its job. systemd answers in milliseconds; a manager
// that is wedged (or a bus nobody serves) must not hang `ccrun run`.
const SystemdTimeout = 20 * time.Second

// Bus names the systemd instance to ask for a scope.
type Bus struct {
	// User: the user's own manager (systemd --user) on the session bus; otherwise
	// PID 1 on the system bus.
	User bool
	// UID is the host uid to authenticate as. D-Bus's EXTERNAL mechanism sends a
	// uid that the bus compares with the socket's peer credentials (SO_PEERCRED),
	// which the kernel reports as the host uid. Inside ccrun's user namespace
	// os.Getuid() is 0, which is what go-systemd would send, and the bus would
	// refuse it.
	UID int
}

func (b Bus) String() string {
	if b.User {
		return "the user's systemd (session bus " + b.Address() + ")"
	}
	return "systemd (system bus " + b.Address() + ")"
}

// Address is the bus's D-Bus address: the environment's when set, else the
// standard socket (/run/user/UID/bus for the user, as logind and systemd --user
// set it up; /run/dbus/system_bus_socket for the system).
func (b Bus) Address() string {
	if !b.User {
		if a := os.Getenv("DBUS_SYSTEM_BUS_ADDRESS"); a != "" {
			return a
		}
		return "unix:path=/run/dbus/system_bus_socket"
	}
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return a
	}
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = "/run/user/" + strconv.Itoa(b.UID)
	}
	return "unix:path=" + dir + "/bus"
}

// Available reports whether the bus can be there: its socket exists (for a unix
// path address), and for the system bus, systemd is PID 1 (sd_booted(3)).
func (b Bus) Available() bool {
	if !b.User {
		if _, err := os.Stat("/run/systemd/system"); err != nil {
			return false
		}
	}
	p, ok := strings.CutPrefix(b.Address(), "unix:path=")
	if !ok {
		return true
	}
	p, _, _ = strings.Cut(p, ",")
	st, err := os.Stat(p)
	return err == nil && st.Mode()&os.ModeSocket != 0
}

// connect opens an authenticated connection; ctx bounds it and closes it when done.
func (b Bus) connect(ctx context.Context) (*sd.Conn, error) {
	return sd.NewConnection(func() (*dbus.Conn, error) {
		conn, err := dbus.Dial(b.Address(), dbus.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(b.UID))}); err != nil {
			conn.Close()
			return nil, fmt.Errorf("authenticate as uid %d: %w", b.UID, err)
		}
		if err := conn.Hello(); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	})
}

// Slice is where ccrun's scopes go: machine.slice for the system ("all virtual
// machines and containers", systemd.special(7)), user.slice in the user's manager
// (as podman does).
func (b Bus) Slice() string {
	if b.User {
		return "user.slice"
	}
	return "machine.slice"
}

// Delegate asks systemd for a transient scope unit holding pid, with Delegate=yes:
// systemd creates the scope's cgroup, moves pid into it, hands the directory over
// (chowned to the caller, controllers enabled) and promises not to touch what is
// below it. When the last process of the scope exits, systemd stops the unit and
// removes the cgroup with everything ccrun made in it, so nothing is left behind
// even when ccrun is killed. A failed attempt (a failed unit of the same name
// left over, a job that did not finish "done") is reset and retried once.
func Delegate(ctx context.Context, bus Bus, unit string, pid int) (*Cgroup, error) {
	err := startScope(ctx, bus, unit, pid)
	if err != nil {
		slog.Debug("start scope failed; reset and retry", "unit", unit, "err", err)
		resetFailed(ctx, bus, unit)
		err = startScope(ctx, bus, unit, pid)
	}
	if err != nil {
		return nil, fmt.Errorf("ask %s for scope %s: %w", bus, unit, err)
	}
	dir, err := ProcessDir(pid)
	if err != nil {
		return nil, fmt.Errorf("find the cgroup of scope %s: %w", unit, err)
	}
	if filepath.Base(dir) != unit {
		return nil, fmt.Errorf("start scope %s: systemd put pid %d in %s", unit, pid, dir)
	}
	slog.Debug("delegated cgroup", "unit", unit, "dir", dir)
	return &Cgroup{Dir: dir, Unit: unit, fd: -1, fix: systemdFix(bus)}, nil
}

// startScope is one StartTransientUnit call, waiting for its job within
// SystemdTimeout.
func startScope(ctx context.Context, bus Bus, unit string, pid int) error {
	ctx, cancel := context.WithTimeout(ctx, SystemdTimeout)
	defer cancel()
	conn, err := bus.connect(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	done := make(chan string, 1) // buffered: go-systemd sends while holding its lock
	if _, err := conn.StartTransientUnitContext(ctx, unit, "fail", scopeProperties(bus, unit, pid), done); err != nil {
		return err
	}
	select {
	case result := <-done:
		if result != "done" {
			return fmt.Errorf("job %s", result)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("no answer within %s: %w", SystemdTimeout, ctx.Err())
	}
}

// scopeProperties are the unit's settings (systemd.resource-control(5)).
func scopeProperties(bus Bus, unit string, pid int) []sd.Property {
	return []sd.Property{
		sd.PropDescription("ccrun container " + strings.TrimSuffix(strings.TrimPrefix(unit, "ccrun-"), ".scope")),
		sd.PropSlice(bus.Slice()),
		sd.PropPids(uint32(pid)),
		{Name: "Delegate", Value: dbus.MakeVariant(true)},
		// Unload the unit as soon as it is inactive, failed or not, so that no
		// ccrun-*.scope outlives its container.
		{Name: "CollectMode", Value: dbus.MakeVariant("inactive-or-failed")},
	}
}

func resetFailed(ctx context.Context, bus Bus, unit string) {
	ctx, cancel := context.WithTimeout(ctx, SystemdTimeout)
	defer cancel()
	conn, err := bus.connect(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	if err := conn.ResetFailedUnitContext(ctx, unit); err != nil {
		var de dbus.Error
		if !errors.As(err, &de) || de.Name != "org.freedesktop.systemd1.NoSuchUnit" {
			slog.Debug("reset failed unit", "unit", unit, "err", err)
		}
	}
}

// systemdFix says how to get a controller delegated by this systemd.
func systemdFix(bus Bus) func(controller string) string {
	if !bus.User {
		return func(controller string) string {
			return fmt.Sprintf("the kernel offers no %s controller in cgroup v2 (see %s/cgroup.controllers; "+
				"a controller still bound to a cgroup v1 hierarchy is not available in v2)", controller, Root)
		}
	}
	return func(controller string) string {
		return fmt.Sprintf("have systemd delegate it to your user with this drop-in, as root:\n"+
			"  mkdir -p /etc/systemd/system/user@.service.d\n"+
			"  printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' > /etc/systemd/system/user@.service.d/delegate.conf\n"+
			"  systemctl daemon-reload\n"+
			"then log in again (or, as root: systemctl restart user@%d.service)", bus.UID)
	}
}
