package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/rootless"
	"github.com/ccrun/ccrun/rootless/caps"
	"github.com/ccrun/ccrun/rootless/seccomp"
)

// security is what --cap-add, --cap-drop, --privileged and --security-opt decide
// for a container: the init applies it as its last steps before execve.
type security struct {
	// Caps are the sets of uid 0 in the container. When the command runs as
	// another user the init clears permitted and effective (the bounding set
	// stays), as execve(2) does for a non-root program.
	Caps            rootless.Caps
	NoNewPrivileges bool
	// Seccomp is the compiled filter; empty means unconfined.
	Seccomp []byte
	// Privileged also means: no masked or read-only kernel paths.
	Privileged bool
}

// securityOptions are the parsed --security-opt values.
type securityOptions struct {
	noNewPrivileges bool
	seccomp         string // "" (the built-in default), "unconfined" or a profile's path
}

const securityOptHelp = "ccrun knows no-new-privileges[=true|false], seccomp=unconfined and seccomp=PROFILE.json"

// securityConfig computes the container's capabilities, no_new_privs and seccomp
// filter from the flags. Secure by default: podman's capability set, no_new_privs
// on, the built-in seccomp profile. --privileged grants every capability and
// turns seccomp and path masking off, but an explicit --cap-drop or
// seccomp=PROFILE.json still applies, since the user asked for it by name.
func securityConfig(o *runOptions) (*security, error) {
	opts, err := parseSecurityOpts(o.securityOpt)
	if err != nil {
		return nil, err
	}
	sets, err := caps.Compute(caps.Flags{Add: o.capAdd, Drop: o.capDrop, Privileged: o.privileged, Available: availableCaps()})
	if err != nil {
		return nil, usagef("%v", err)
	}
	prog, err := seccompFilter(opts.seccomp, o.privileged, sets.Bounding)
	if err != nil {
		return nil, err
	}
	slog.Debug("security", "caps", caps.Format(sets.Bounding), "no_new_privs", opts.noNewPrivileges,
		"seccomp", seccompLabel(opts.seccomp, o.privileged), "seccomp_instructions", len(prog)/8, "privileged", o.privileged)
	return &security{
		Caps: rootless.Caps{
			Bounding: sets.Bounding, Permitted: sets.Permitted, Effective: sets.Effective,
			Inheritable: sets.Inheritable, Ambient: sets.Ambient,
		},
		NoNewPrivileges: opts.noNewPrivileges,
		Seccomp:         prog,
		Privileged:      o.privileged,
	}, nil
}

// parseSecurityOpts reads docker's --security-opt values. Both KEY=VALUE and the
// older KEY:VALUE are accepted, as docker does.
func parseSecurityOpts(values []string) (securityOptions, error) {
	opts := securityOptions{noNewPrivileges: true}
	for _, v := range values {
		if err := opts.set(v); err != nil {
			return securityOptions{}, err
		}
	}
	return opts, nil
}

func (opts *securityOptions) set(v string) error {
	key, val, found := strings.Cut(v, "=")
	if !found {
		key, val, found = strings.Cut(v, ":")
	}
	switch key {
	case "no-new-privileges":
		if !found {
			opts.noNewPrivileges = true
			return nil
		}
		b, err := strconv.ParseBool(val)
		if err != nil {
			return usagef("--security-opt %s: want no-new-privileges=true or no-new-privileges=false", v)
		}
		opts.noNewPrivileges = b
	case "seccomp":
		if val == "" {
			return usagef("--security-opt %s: want seccomp=unconfined or seccomp=PROFILE.json", v)
		}
		opts.seccomp = val
	case "apparmor", "label":
		// ccrun applies no LSM profile, so turning one off asks for nothing.
		if val != "unconfined" && val != "disable" {
			return usagef("--security-opt %s: ccrun applies no AppArmor profile or SELinux label (only apparmor=unconfined and label=disable are accepted)", v)
		}
	default:
		return usagef("--security-opt %s: unknown option; %s", v, securityOptHelp)
	}
	return nil
}

// seccompFilter compiles the filter the container gets, for its bounding set:
// rules of the profile that depend on capabilities are resolved here.
func seccompFilter(choice string, privileged bool, bounding uint64) ([]byte, error) {
	var p *seccomp.Profile
	switch {
	case choice == "unconfined" || (choice == "" && privileged):
		return nil, nil
	case choice == "":
		p = seccomp.Default()
	default:
		data, err := os.ReadFile(choice)
		if err != nil {
			return nil, withHint(fmt.Errorf("read seccomp profile: %w", err),
				"--security-opt seccomp= takes unconfined or the path of a profile in docker's JSON format")
		}
		if p, err = seccomp.Load(data); err != nil {
			return nil, fmt.Errorf("seccomp profile %s: %w", choice, err)
		}
	}
	prog, err := p.Compile(bounding)
	if err != nil {
		return nil, withHint(err, "--security-opt seccomp=unconfined runs without a filter")
	}
	return prog, nil
}

func seccompLabel(choice string, privileged bool) string {
	switch {
	case choice == "" && privileged:
		return "unconfined (privileged)"
	case choice == "":
		return "default"
	}
	return choice
}

// availableCaps is what ccrun can give a container at most: as root, this
// thread's capability bounding set (prctl(2), PR_CAPBSET_READ); rootless, every
// capability the kernel has, which the init holds in the user namespace it
// makes, whose bounding set starts full (user_namespaces(7)).
func availableCaps() uint64 {
	all := rootlessMode()
	var m uint64
	for c := 0; c <= caps.Last; c++ {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			break // a capability this kernel does not have
		}
		if err == nil && (in == 1 || all) {
			m |= 1 << c
		}
	}
	return m
}
