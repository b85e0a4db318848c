package cgroupv2

import "testing"

func TestBusAddress(t *testing.T) {
	tests := []struct {
		name            string
		bus             Bus
		session, xdg    string
		system, wantAdr string
	}{
		{"user, session address set", Bus{User: true, UID: 1000}, "unix:path=/x/bus", "/run/user/1000", "", "unix:path=/x/bus"},
		{"user, only XDG_RUNTIME_DIR", Bus{User: true, UID: 1000}, "", "/run/user/1000", "", "unix:path=/run/user/1000/bus"},
		{"user, nothing set (su, CI)", Bus{User: true, UID: 1001}, "", "", "", "unix:path=/run/user/1001/bus"},
		{"system, default", Bus{}, "unix:path=/x/bus", "", "", "unix:path=/run/dbus/system_bus_socket"},
		{"system, address set", Bus{}, "", "", "unix:path=/y", "unix:path=/y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DBUS_SESSION_BUS_ADDRESS", tt.session)
			t.Setenv("XDG_RUNTIME_DIR", tt.xdg)
			t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", tt.system)
			if got := tt.bus.Address(); got != tt.wantAdr {
				t.Errorf("Address() = %q, want %q", got, tt.wantAdr)
			}
		})
	}
}
