package main

import (
	"slices"
	"strings"
	"testing"
)

func strp(s string) *string { return &s }

func TestMergeProcess(t *testing.T) {
	img := imageConfig{
		Entrypoint: []string{"/entry", "-v"},
		Cmd:        []string{"serve", "--port=80"},
		Env:        []string{"PATH=/usr/bin:/bin", "LANG=C", "EMPTY="},
		WorkingDir: "/srv",
		User:       "app:app",
	}
	tests := []struct {
		name     string
		cfg      imageConfig
		o        runOptions
		wantArgs []string
		wantEnv  []string
		wantCwd  string
		wantUser string
	}{
		{
			name: "the image's defaults", cfg: img,
			wantArgs: []string{"/entry", "-v", "serve", "--port=80"},
			wantEnv:  []string{"PATH=/usr/bin:/bin", "LANG=C", "EMPTY="}, wantCwd: "/srv", wantUser: "app:app",
		},
		{
			name: "arguments replace CMD", cfg: img, o: runOptions{args: []string{"check"}},
			wantArgs: []string{"/entry", "-v", "check"},
			wantEnv:  img.Env, wantCwd: "/srv", wantUser: "app:app",
		},
		{
			name: "--entrypoint replaces ENTRYPOINT and drops CMD", cfg: img, o: runOptions{entrypoint: strp("/bin/sh")},
			wantArgs: []string{"/bin/sh"},
			wantEnv:  img.Env, wantCwd: "/srv", wantUser: "app:app",
		},
		{
			name: "--entrypoint with arguments", cfg: img, o: runOptions{entrypoint: strp("/bin/sh"), args: []string{"-c", "id"}},
			wantArgs: []string{"/bin/sh", "-c", "id"},
			wantEnv:  img.Env, wantCwd: "/srv", wantUser: "app:app",
		},
		{
			name: `--entrypoint "" clears it`, cfg: img, o: runOptions{entrypoint: strp(""), args: []string{"ls", "-l"}},
			wantArgs: []string{"ls", "-l"},
			wantEnv:  img.Env, wantCwd: "/srv", wantUser: "app:app",
		},
		{
			name: "-e overrides by key in place, new keys append", cfg: img,
			o:        runOptions{env: []string{"LANG=C.UTF-8", "NEW=1", "EMPTY=x", "NEW=2"}},
			wantArgs: []string{"/entry", "-v", "serve", "--port=80"},
			wantEnv:  []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "EMPTY=x", "NEW=2"}, wantCwd: "/srv", wantUser: "app:app",
		},
		{
			name: "-w and -u win", cfg: img, o: runOptions{workdir: "/tmp/../work", user: "1000:50"},
			wantArgs: []string{"/entry", "-v", "serve", "--port=80"},
			wantEnv:  img.Env, wantCwd: "/work", wantUser: "1000:50",
		},
		{
			name: "only CMD; no workdir, no user", cfg: imageConfig{Cmd: []string{"sh"}},
			wantArgs: []string{"sh"}, wantEnv: []string{}, wantCwd: "/", wantUser: "",
		},
		{
			name: "a relative WORKDIR is taken from /, and cannot climb out", cfg: imageConfig{Cmd: []string{"sh"}, WorkingDir: "../../../etc"},
			wantArgs: []string{"sh"}, wantEnv: []string{}, wantCwd: "/etc",
		},
		{
			name: "env entries without = are dropped", cfg: imageConfig{Cmd: []string{"sh"}, Env: []string{"JUNK", "=x", "A=1"}},
			wantArgs: []string{"sh"}, wantEnv: []string{"A=1"}, wantCwd: "/",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, env, cwd, user, err := mergeProcess(tt.cfg, &tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(args, tt.wantArgs) || !slices.Equal(env, tt.wantEnv) || cwd != tt.wantCwd || user != tt.wantUser {
				t.Errorf("mergeProcess =\n  args %q env %q cwd %q user %q\nwant\n  args %q env %q cwd %q user %q",
					args, env, cwd, user, tt.wantArgs, tt.wantEnv, tt.wantCwd, tt.wantUser)
			}
		})
	}
}

func TestMergeProcessRefuses(t *testing.T) {
	tests := []struct {
		name string
		cfg  imageConfig
		o    runOptions
		want string
	}{
		{"no command at all", imageConfig{}, runOptions{}, "no command"},
		{"--entrypoint '' and no arguments", imageConfig{Cmd: []string{"sh"}}, runOptions{entrypoint: strp("")}, "no command"},
		{"relative -w", imageConfig{Cmd: []string{"sh"}}, runOptions{workdir: "work"}, "absolute"},
		{"user with a slash", imageConfig{Cmd: []string{"sh"}, User: "../../etc/passwd"}, runOptions{}, "user"},
		{"user with three parts", imageConfig{Cmd: []string{"sh"}, User: "0:0:0"}, runOptions{}, "user"},
		{"user with only a group", imageConfig{Cmd: []string{"sh"}, User: ":0"}, runOptions{}, "user"},
		{"NUL in the entrypoint", imageConfig{Entrypoint: []string{"/bin/sh\x00-c"}}, runOptions{}, "NUL"},
		{"NUL in the env", imageConfig{Cmd: []string{"sh"}, Env: []string{"A=1\x00B=2"}}, runOptions{}, "NUL"},
		{"NUL in WORKDIR", imageConfig{Cmd: []string{"sh"}, WorkingDir: "/a\x00b"}, runOptions{}, "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, _, err := mergeProcess(tt.cfg, &tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("mergeProcess error = %v, want one about %q", err, tt.want)
			}
		})
	}
}
