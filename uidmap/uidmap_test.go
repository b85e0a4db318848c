package uidmap

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const file = `# comment
alice:100000:65536
bob:165536:65536
1000:300000:10
alice:400000:bad
alice:500000:0
carol:1:2:3

alice:231072:1000
`
	tests := []struct {
		name string
		id   uint32
		want []Range
	}{
		{"alice", 1001, []Range{{100000, 65536}, {231072, 1000}}},
		{"bob", 1002, []Range{{165536, 65536}}},
		{"dave", 1000, []Range{{300000, 10}}}, // matched by numeric id
		{"carol", 1003, nil},                  // malformed line skipped
		{"nobody", 9, nil},
	}
	for _, tt := range tests {
		got, err := Parse(strings.NewReader(file), tt.name, tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%s, %d) = %v, want %v", tt.name, tt.id, got, tt.want)
		}
	}
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name   string
		ranges []Range
		max    uint32
		want   []Mapping
	}{
		{"none", nil, 65536, []Mapping{{0, 1000, 1}}},
		{"one full range", []Range{{100000, 65536}}, 65536,
			[]Mapping{{0, 1000, 1}, {1, 100000, 65536}}},
		{"large range capped", []Range{{100000, 1 << 20}}, 65536,
			[]Mapping{{0, 1000, 1}, {1, 100000, 65536}}},
		{"two small ranges joined", []Range{{100000, 10}, {200000, 100}}, 65536,
			[]Mapping{{0, 1000, 1}, {1, 100000, 10}, {11, 200000, 100}}},
		{"second range cut at max", []Range{{100000, 60000}, {200000, 60000}}, 65536,
			[]Mapping{{0, 1000, 1}, {1, 100000, 60000}, {60001, 200000, 5536}}},
		{"ranges beyond max dropped", []Range{{100000, 65536}, {300000, 5}}, 65536,
			[]Mapping{{0, 1000, 1}, {1, 100000, 65536}}},
	}
	for _, tt := range tests {
		got := Plan(1000, tt.ranges, tt.max)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Plan = %v, want %v", tt.name, got, tt.want)
		}
		if n := Size(got); n > tt.max+1 {
			t.Errorf("%s: maps %d ids, more than %d", tt.name, n, tt.max+1)
		}
	}
}

func TestArgsAndFormat(t *testing.T) {
	m := []Mapping{{0, 1000, 1}, {1, 100000, 65536}}
	if got, want := strings.Join(Args(42, m), " "), "42 0 1000 1 1 100000 65536"; got != want {
		t.Errorf("Args = %q, want %q", got, want)
	}
	if got, want := ProcFormat(m), "0 1000 1\n1 100000 65536\n"; got != want {
		t.Errorf("ProcFormat = %q, want %q", got, want)
	}
	if got := ParseProc("         0       1000          1\n         1     100000      65536\nbad line\n"); !reflect.DeepEqual(got, m) {
		t.Errorf("ParseProc = %v, want %v", got, m)
	}
	if !Contains(m, 5) || !Contains(m, 0) || Contains(m, 65537) {
		t.Error("Contains is wrong at the edges")
	}
}
