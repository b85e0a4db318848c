package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/ccrun/ccrun/rootless"
)

var runCommand = &command{
	Name:  "run",
	Usage: "run [flags] IMAGE [COMMAND [ARG...]]\n       ccrun run [flags] --rootfs DIR COMMAND [ARG...]",
	Short: "Run a command in a new container",
	Long: `The container gets its own user, mount, PID, UTS, IPC, network (loopback only) and
cgroup namespaces. Flags stop at the image name (or, with --rootfs, at the command), so
'ccrun run alpine ls -l' passes -l to ls.

Examples:
  ccrun run --rm alpine echo hi
  ccrun run -it --rm alpine sh
  ccrun run --rootfs ~/busybox-root -- sh -c 'echo hi; exit 3'
  ccrun run -it --rootfs ~/busybox-root --hostname box sh
  echo hi | ccrun run -i --rootfs ~/busybox-root cat
  ccrun run --rm -e GREETING=hello -w /work -u 1000:1000 alpine sh -c 'echo $GREETING; pwd; id'`,
	Interspersed: false,
	Flags:        runFlags,
}

// runOptions are the flags of `ccrun run`.
type runOptions struct {
	image string
	args  []string

	rootfs     string
	entrypoint *string
	envFlags   []string
	envFiles   []string
	env        []string // envFiles then envFlags, each "K=V"
	workdir    string
	user       string
	hostname   string

	interactive, tty, rm, readOnly, init, debug bool
	stopTimeout                                 int

	pull, platform string
	tlsVerify      bool
	quiet          bool

	memory, memorySwap string
	cpus               float64
	cpuShares          int64
	pidsLimit          int64
	pidsLimitSet       bool

	capAdd, capDrop []string
	privileged      bool
	securityOpt     []string
}

func runFlags(fs *pflag.FlagSet) func(*globals, []string) error {
	o := &runOptions{}
	finish := o.declare(fs)
	return func(g *globals, args []string) error {
		o.debug = g.Debug
		if err := finish(args); err != nil {
			return err
		}
		code, err := runContainer(context.Background(), g, o)
		if err != nil {
			return err
		}
		return &exitError{code}
	}
}

// declare declares the flags of `run` on fs into o, and returns the function that
// completes o from the arguments left after the flags.
func (o *runOptions) declare(fs *pflag.FlagSet) func(args []string) error {
	var entrypoint string
	fs.StringVar(&o.rootfs, "rootfs", "", "run from a root filesystem directory instead of an image (written to unless --read-only)")
	fs.StringArrayVarP(&o.envFlags, "env", "e", nil, "set an environment variable (`KEY=VALUE`, or KEY to pass on ccrun's own)")
	fs.StringArrayVar(&o.envFiles, "env-file", nil, "read environment variables from a `file` of KEY=VALUE lines")
	fs.StringVarP(&o.workdir, "workdir", "w", "", "working `directory` inside the container (created if missing)")
	fs.StringVarP(&o.user, "user", "u", "", "run as `user[:group]` (names or numeric ids)")
	fs.StringVarP(&o.hostname, "hostname", "h", "", "container host `name` (default: the short container id)")
	fs.BoolVarP(&o.interactive, "interactive", "i", false, "keep stdin open (otherwise the container reads /dev/null)")
	fs.BoolVarP(&o.tty, "tty", "t", false, "give the container a terminal")
	fs.BoolVar(&o.rm, "rm", false, "remove the container when it exits")
	fs.BoolVar(&o.readOnly, "read-only", false, "mount the container's root filesystem read-only")
	fs.BoolVar(&o.init, "init", false, "run a small init as PID 1 that forwards signals and reaps zombies")
	fs.StringVar(&entrypoint, "entrypoint", "", "override the image's entrypoint")
	fs.IntVar(&o.stopTimeout, "stop-timeout", 10, "`seconds` after the first SIGINT/SIGTERM before the container is killed")
	fs.StringVar(&o.pull, "pull", "missing", "pull the image: `missing`, always or never")
	fs.StringVar(&o.platform, "platform", "", "choose the `os/arch[/variant]` of a multi-platform image")
	fs.BoolVar(&o.tlsVerify, "tls-verify", true, "require HTTPS and verify certificates of the registry")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "pull without progress output")
	fs.StringVarP(&o.memory, "memory", "m", "", "memory limit (`bytes`, with k, m or g)")
	fs.StringVar(&o.memorySwap, "memory-swap", "", "memory plus swap limit (`bytes`), -1 for unlimited swap")
	fs.Float64Var(&o.cpus, "cpus", 0, "number of `CPUs` the container may use")
	fs.Int64VarP(&o.cpuShares, "cpu-shares", "c", 0, "relative CPU `weight` (1024 is the default)")
	fs.Int64Var(&o.pidsLimit, "pids-limit", 0, "maximum number of `processes` (default 2048 when a cgroup is available; -1 for none)")
	fs.StringArrayVar(&o.capAdd, "cap-add", nil, "add a Linux `capability` (or ALL)")
	fs.StringArrayVar(&o.capDrop, "cap-drop", nil, "drop a Linux `capability` (or ALL)")
	fs.BoolVar(&o.privileged, "privileged", false, "all capabilities, no seccomp, no masked paths")
	fs.StringArrayVar(&o.securityOpt, "security-opt", nil, "`option`: no-new-privileges[=false], seccomp=unconfined|PROFILE.json")
	return func(args []string) error {
		if fs.Changed("entrypoint") {
			o.entrypoint = &entrypoint
		}
		o.pidsLimitSet = fs.Changed("pids-limit")
		return o.complete(args)
	}
}

// complete checks the options and derives the rest from the arguments.
func (o *runOptions) complete(args []string) error {
	if o.rootfs != "" {
		if len(args) == 0 {
			return usagef("--rootfs needs a command to run")
		}
		o.args = args
	} else {
		if len(args) == 0 {
			return usagef("run needs an image or --rootfs DIR")
		}
		o.image, o.args = args[0], args[1:]
	}
	switch o.pull {
	case "missing", "always", "never":
	default:
		return usagef("--pull=%s: want missing, always or never", o.pull)
	}
	if o.stopTimeout < 0 {
		return usagef("--stop-timeout must not be negative")
	}
	env, err := parseEnv(o.envFiles, o.envFlags, os.LookupEnv)
	if err != nil {
		return err
	}
	o.env = env
	return nil
}

// newID returns a random container id: 64 hex digits, of which ps shows 12.
func newID() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b[:])
}

// runContainer is the whole `run` sequence, in the process you started, root or
// not: check the security options, prepare the root, set up the cgroup, start
// the init (rootless, in a user namespace of its own), supervise it, clean up.
// It returns the container's exit status.
func runContainer(ctx context.Context, g *globals, o *runOptions) (int, error) {
	ids, err := g.childIDs(os.Stderr)
	if err != nil {
		return 0, err
	}
	id := newID()
	var release func(bool) error
	code, err := withCgroup(ctx, g, o, id, func(cg containerCgroup) (int, error) {
		// The init is cloned first, and its Go start and the id mapping
		// overlap with the preparing of its root (see rootless.CloneInit).
		return startAndWait(o, cg, ids, func() (*rootless.Spec, error) {
			// The seccomp filter is compiled here, after the clone, not before:
			// nothing before the clone should delay newuidmap.
			sec, err := securityConfig(o)
			if err != nil {
				return nil, err
			}
			root, proc, rel, err := prepareRoot(ctx, g, o, id)
			if err != nil {
				return nil, err
			}
			release = rel
			spec := buildSpec(o, id, root, proc, sec, cg.Cgroup2(), ids)
			spec.CgroupTasks = cgroupTasks(cg)
			return spec, nil
		})
	})
	if release != nil {
		if rerr := release(o.rm); rerr != nil && err == nil {
			err = fmt.Errorf("remove container %s: %w", id[:12], rerr)
		}
	}
	return code, err
}

// withCgroup runs f with the container's cgroup and removes the cgroup afterwards.
func withCgroup(ctx context.Context, g *globals, o *runOptions, id string, f func(containerCgroup) (int, error)) (int, error) {
	cg, err := setupCgroup(ctx, g, o, id)
	if err != nil {
		return 0, err
	}
	code, err := f(cg)
	if msg := cg.OOMMessage(); msg != "" {
		// Docker's status for an OOM kill, also when PID 1 survived its child.
		fmt.Fprintf(os.Stderr, "ccrun: %s\n", msg)
		code = 137
	}
	if cerr := cg.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("remove cgroup: %w", cerr)
	}
	return code, err
}

// prepareRoot returns the container's root filesystem and process, and the function
// that releases (with --rm, removes) what was made for them.
func prepareRoot(ctx context.Context, g *globals, o *runOptions, id string) (rootless.Root, rootless.Process, func(bool) error, error) {
	if o.rootfs == "" {
		return imageRoot(ctx, g, o, id)
	}
	proc := rootless.Process{Args: o.args, Env: o.env, Cwd: o.workdir, User: o.user}
	dir, err := filepath.Abs(o.rootfs)
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return rootless.Root{}, proc, nil, withHint(fmt.Errorf("rootfs %s: %w", o.rootfs, unwrapPath(err)),
			"--rootfs takes an existing directory holding the container's files (bin/sh, ...)")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return rootless.Root{}, proc, nil, withHint(fmt.Errorf("rootfs %s: not a directory", o.rootfs),
			"--rootfs takes an existing directory holding the container's files (bin/sh, ...)")
	}
	if proc.Cwd == "" {
		proc.Cwd = "/"
	}
	return rootless.Root{Dir: dir, ReadOnly: o.readOnly}, proc, func(bool) error { return nil }, nil
}

// imageRoot makes a container of the image: a private overlay over its layers, and
// the process its config describes, as amended by the command line.
func imageRoot(ctx context.Context, g *globals, o *runOptions, id string) (rootless.Root, rootless.Process, func(bool) error, error) {
	ic, err := imageContainer(g, o, id)
	if err != nil {
		return rootless.Root{}, rootless.Process{}, nil, err
	}
	args, env, cwd, user, err := mergeProcess(ic.Config, o)
	if err != nil {
		return rootless.Root{}, rootless.Process{}, nil, errors.Join(err, ic.Release(true))
	}
	proc := rootless.Process{Args: args, Env: env, Cwd: cwd, User: user}
	return rootless.Root{Overlay: ic.Overlay, ReadOnly: o.readOnly}, proc, ic.Release, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
