package cgroupv2

import "testing"

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"32m", 32 << 20, false},
		{"32M", 32 << 20, false},
		{"32mb", 32 << 20, false},
		{"32MiB", 32 << 20, false},
		{"32 m", 32 << 20, false},
		{"1g", 1 << 30, false},
		{"1.5g", 3 << 29, false},
		{"512k", 512 << 10, false},
		{"1t", 1 << 40, false},
		{"100", 100, false},
		{"100b", 100, false},
		{"0", 0, false},
		{"", 0, true},
		{"m", 0, true},
		{"32x", 0, true},
		{"32mm", 0, true},
		{"-1", 0, true}, // -1 means "unlimited" only for --memory-swap: the caller's business
		{"1.2.3m", 0, true},
		{"9999999p", 0, true}, // overflows int64
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1000, "1000 B"},
		{1024, "1 KiB"},
		{32 << 20, "32 MiB"},
		{6 << 20, "6 MiB"},
		{3 << 29, "1.5 GiB"},
		{100000000, "95.4 MiB"},
	}
	for _, tt := range tests {
		if got := FormatBytes(tt.n); got != tt.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
