package overlay

import (
	"fmt"
	"strings"
	"testing"
)

const home = "/var/lib/ccrun/storage/overlay"

// layers makes n layers named like containers/storage's: <home>/<64 hex>/diff with
// a short alias l/<26 chars>.
func layers(n int, short bool) []Layer {
	var ls []Layer
	for i := range n {
		l := Layer{Dir: fmt.Sprintf("%s/%064x/diff", home, i)}
		if short {
			l.Short = fmt.Sprintf("l/%026d", i)
		}
		ls = append(ls, l)
	}
	return ls
}

func volatile(r Root) Root {
	r.Volatile = true
	return r
}

func root(lower []Layer, userxattr bool) Root {
	c := home + "/" + strings.Repeat("c", 64)
	return Root{Home: home, Lower: lower, Upper: c + "/diff", Work: c + "/work", Target: c + "/merged", UserXattr: userxattr}
}

func TestPlan(t *testing.T) {
	c := home + "/" + strings.Repeat("c", 64)
	tests := []struct {
		name        string
		root        Root
		wantOptions string // exact, or a prefix when wantPrefix
		wantPrefix  bool
		wantChdir   string
		wantParams  int
	}{
		{
			name:        "one layer, absolute paths",
			root:        root(layers(1, true), false),
			wantOptions: fmt.Sprintf("lowerdir=%s/%064x/diff,upperdir=%s/diff,workdir=%s/work", home, 0, c, c),
			wantParams:  3,
		},
		{
			name:        "rootless adds userxattr",
			root:        root(layers(1, true), true),
			wantOptions: fmt.Sprintf("lowerdir=%s/%064x/diff,upperdir=%s/diff,workdir=%s/work,userxattr", home, 0, c, c),
			wantParams:  4,
		},
		{
			name:        "a --rm container's upper need not be synced",
			root:        volatile(root(layers(1, true), true)),
			wantOptions: fmt.Sprintf("lowerdir=%s/%064x/diff,upperdir=%s/diff,workdir=%s/work,userxattr,volatile", home, 0, c, c),
			wantParams:  5,
		},
		{
			name:        "top layer first",
			root:        root(layers(2, true), false),
			wantOptions: fmt.Sprintf("lowerdir=%s/%064x/diff:%s/%064x/diff,", home, 0, home, 1),
			wantPrefix:  true,
			wantParams:  4,
		},
		{
			name:        "forty layers overflow a page: short links",
			root:        root(layers(40, true), false),
			wantOptions: fmt.Sprintf("lowerdir=l/%026d:l/%026d:", 0, 1),
			wantPrefix:  true,
			wantChdir:   home,
			wantParams:  42,
		},
		{
			name:        "128 layers fit in a page",
			root:        root(layers(128, true), true),
			wantOptions: fmt.Sprintf("lowerdir=l/%026d:", 0),
			wantPrefix:  true,
			wantChdir:   home,
			wantParams:  131,
		},
		{
			name:        "no short alias: relative to home",
			root:        root(layers(40, false), false),
			wantOptions: fmt.Sprintf("lowerdir=%064x/diff:%064x/diff:", 0, 1),
			wantPrefix:  true,
			wantChdir:   home,
			wantParams:  42,
		},
		{
			name: "a colon in a path forces relative paths",
			root: Root{Home: "/s:x", Lower: []Layer{{Dir: "/s:x/a/diff", Short: "l/A"}},
				Upper: "/s:x/c/diff", Work: "/s:x/c/work", Target: "/s:x/c/merged"},
			wantOptions: "lowerdir=l/A,upperdir=c/diff,workdir=c/work",
			wantChdir:   "/s:x",
			wantParams:  3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Plan(tt.root)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantPrefix && !strings.HasPrefix(m.Options, tt.wantOptions) || !tt.wantPrefix && m.Options != tt.wantOptions {
				t.Errorf("options:\n got %s\nwant %s", m.Options, tt.wantOptions)
			}
			if m.Chdir != tt.wantChdir {
				t.Errorf("chdir = %q, want %q", m.Chdir, tt.wantChdir)
			}
			if len(m.Params) != tt.wantParams {
				t.Errorf("%d params, want %d: %q", len(m.Params), tt.wantParams, m.Params)
			}
			if len(m.Options) >= PageSize {
				t.Errorf("options of %d bytes do not fit in a page", len(m.Options))
			}
			if m.Target != tt.root.Target {
				t.Errorf("target = %q, want %q", m.Target, tt.root.Target)
			}
		})
	}
}

// Params must say the same as Options: each lower directory in order, then upper,
// work and userxattr.
func TestPlanParamsMatchOptions(t *testing.T) {
	m, err := Plan(root(layers(40, true), true))
	if err != nil {
		t.Fatal(err)
	}
	var lowers []string
	var rest []string
	for _, p := range m.Params {
		if v, ok := strings.CutPrefix(p, "lowerdir+="); ok {
			lowers = append(lowers, v)
		} else {
			rest = append(rest, p)
		}
	}
	want := "lowerdir=" + strings.Join(lowers, ":") + "," + strings.Join(rest, ",")
	if m.Options != want {
		t.Errorf("options and params differ:\n options %s\n params  %s", m.Options, want)
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name string
		root Root
		want string
	}{
		{"no layers", root(nil, false), "at least one layer"},
		{"relative layer", Root{Home: home, Lower: []Layer{{Dir: "x/diff"}}, Upper: "/u", Work: "/w", Target: "/t"}, "not absolute"},
		{"layer outside home", func() Root {
			r := root(layers(3, false), false)
			r.Lower[2].Dir = "/elsewhere/" + strings.Repeat("x", 300)
			return r
		}(), "is not below"},
		{"too many layers", root(layers(200, true), false), "does not fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Plan(tt.root)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Plan() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
