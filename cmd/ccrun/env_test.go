package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestParseEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "env")
	content := "# a comment\n\nA=from-file\n  B=indented\nPASSED\nMISSING\nQ=\"quoted stays\"\n"
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	lookup := func(k string) (string, bool) {
		if k == "PASSED" {
			return "host-value", true
		}
		return "", false
	}
	got, err := parseEnv([]string{file}, []string{"A=flag", "C=x=y", "EMPTY=", "PASSED"}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A=from-file", "B=indented", "PASSED=host-value", `Q="quoted stays"`,
		"A=flag", "C=x=y", "EMPTY=", "PASSED=host-value"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseEnv = %q, want %q", got, want)
	}
	for _, bad := range []string{"=value", "A B=1"} {
		if _, err := parseEnv(nil, []string{bad}, lookup); err == nil || !isUsage(err) {
			t.Errorf("-e %q: want a usage error, got %v", bad, err)
		}
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("OK=1\n\n=oops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := parseEnv([]string{bad}, nil, lookup); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("bad env file: %v, want the error to name line 3", err)
	}
	if _, err := parseEnv([]string{filepath.Join(dir, "none")}, nil, lookup); err == nil {
		t.Error("a missing env file must be an error")
	}
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		args    []string
		image   string
		rest    []string
		rootfs  string
		wantErr string
	}{
		{[]string{"alpine", "ls", "-l"}, "alpine", []string{"ls", "-l"}, "", ""},
		{[]string{"--rm", "-e", "A=1", "alpine", "sh", "-c", "echo --rm"}, "alpine", []string{"sh", "-c", "echo --rm"}, "", ""},
		{[]string{"--rootfs", "/r", "--", "sh", "-c", "exit 3"}, "", []string{"sh", "-c", "exit 3"}, "/r", ""},
		{[]string{"--rootfs", "/r", "ls", "-la"}, "", []string{"ls", "-la"}, "/r", ""},
		{[]string{"-it", "--hostname", "box", "alpine"}, "alpine", []string{}, "", ""},
		{[]string{}, "", nil, "", "run needs an image or --rootfs DIR"},
		{[]string{"--rootfs", "/r"}, "", nil, "", "--rootfs needs a command"},
		{[]string{"--pull=sometimes", "alpine"}, "", nil, "", "--pull=sometimes: want missing, always or never"},
	}
	for _, tt := range tests {
		o, err := parseRunArgs(tt.args)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if o.image != tt.image || o.rootfs != tt.rootfs || !reflect.DeepEqual(o.args, tt.rest) {
			t.Errorf("%q: image %q rootfs %q args %q; want %q %q %q", tt.args, o.image, o.rootfs, o.args, tt.image, tt.rootfs, tt.rest)
		}
	}
}

// parseRunArgs parses a `run` command line without running it.
func parseRunArgs(args []string) (*runOptions, error) {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetInterspersed(false)
	fs.SetOutput(io.Discard)
	o := &runOptions{}
	finish := o.declare(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return o, finish(fs.Args())
}
