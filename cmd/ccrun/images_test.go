package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ccrun/ccrun/pull/store"
)

func TestSplitName(t *testing.T) {
	tests := []struct{ in, repo, tag string }{
		{"docker.io/library/busybox:latest", "docker.io/library/busybox", "latest"},
		{"127.0.0.1:5000/team/tool:1.2", "127.0.0.1:5000/team/tool", "1.2"},
		{"127.0.0.1:5000/team/tool", "127.0.0.1:5000/team/tool", "<none>"},
		{"docker.io/library/busybox@sha256:abc", "docker.io/library/busybox", "<none>"},
		{"", "<none>", "<none>"},
	}
	for _, tt := range tests {
		if repo, tag := splitName(tt.in); repo != tt.repo || tag != tt.tag {
			t.Errorf("splitName(%q) = %q %q, want %q %q", tt.in, repo, tag, tt.repo, tt.tag)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		d    time.Duration
		want string
	}{
		{10 * time.Second, "Less than a minute ago"},
		{time.Minute, "1 minute ago"},
		{59 * time.Minute, "59 minutes ago"},
		{3 * time.Hour, "3 hours ago"},
		{47 * time.Hour, "47 hours ago"},
		{3 * 24 * time.Hour, "3 days ago"},
		{21 * 24 * time.Hour, "3 weeks ago"},
		{90 * 24 * time.Hour, "3 months ago"},
		{3 * 365 * 24 * time.Hour, "3 years ago"},
	}
	for _, tt := range tests {
		if got := ago(now, now.Add(-tt.d)); got != tt.want {
			t.Errorf("ago(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got := ago(now, time.Time{}); got != "unknown" {
		t.Errorf("ago(zero) = %q", got)
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 999: "999B", 1000: "1kB", 4_260_000: "4.26MB", 1_234_567_890: "1.23GB", 77_800_000: "77.8MB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWriteImages(t *testing.T) {
	now := time.Now()
	imgs := []store.Image{
		{ID: strings.Repeat("a", 64), Names: []string{"docker.io/library/busybox:latest", "localhost/bb:v1"}, Created: now.Add(-2 * time.Hour), Size: 2_130_000},
		{ID: strings.Repeat("b", 64), Created: now.Add(-time.Minute * 5), Size: 10},
	}
	var table bytes.Buffer
	if err := writeImagesTable(&table, imgs, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "REPOSITORY") {
		t.Fatalf("table:\n%s", table.String())
	}
	for i, want := range [][]string{
		{"docker.io/library/busybox", "latest", "aaaaaaaaaaaa", "2 hours ago", "2.13MB"},
		{"localhost/bb", "v1", "aaaaaaaaaaaa"},
		{"<none>", "<none>", "bbbbbbbbbbbb", "5 minutes ago", "10B"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("line %d %q lacks %q", i+1, lines[i+1], w)
			}
		}
	}
	var js bytes.Buffer
	if err := writeImagesJSON(&js, imgs); err != nil {
		t.Fatal(err)
	}
	var back []imageJSON
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0].ID != imgs[0].ID || len(back[0].Names) != 2 || back[1].Names == nil || back[0].Size != 2_130_000 {
		t.Errorf("json round trip: %+v", back)
	}
}
