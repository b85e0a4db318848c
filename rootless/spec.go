package rootless

// Spec is everything the init stage needs to turn itself into the container. The
// supervisor (P0) computes it as plain data and sends it to the init over the sync
// socket as JSON, never in argv or the environment, where the container or
// other users could read it (see /proc/<pid>/cmdline and /proc/<pid>/environ).
type Spec struct {
	ID       string `json:"id"`
	Hostname string `json:"hostname"`

	// Root is the container's root filesystem. Exactly one of Dir and Overlay is set.
	Root Root `json:"root"`

	// Process is what the init execs once the container is set up.
	Process Process `json:"process"`

	// Mounts are applied in order after the root is in place, before pivot_root.
	// Each target is resolved inside the root with openat2(RESOLVE_IN_ROOT).
	Mounts []Mount `json:"mounts"`

	// MaskedPaths are hidden behind /dev/null (files) or an empty read-only tmpfs
	// (directories); ReadonlyPaths are bind-mounted read-only onto themselves.
	MaskedPaths   []string `json:"masked_paths,omitempty"`
	ReadonlyPaths []string `json:"readonly_paths,omitempty"`

	// Security, computed on the host side and applied last.
	Caps            Caps   `json:"caps"`
	NoNewPrivileges bool   `json:"no_new_privileges"`
	Seccomp         []byte `json:"seccomp,omitempty"` // a compiled cBPF program (struct sock_filter[])
	// Init makes a small reaper (package reaper, run from a sealed memfd) PID 1,
	// with the command as its child.
	Init bool `json:"init,omitempty"`

	// CgroupTasks are the v1 "tasks" files of the container's cgroups, which
	// the init moves itself into by writing 0 (see initContainer); empty when
	// it was born in its cgroup (clone3), was moved there (BeforeSpec), or has
	// none.
	CgroupTasks []string `json:"cgroup_tasks,omitempty"`

	// UserNS: the init made a user namespace of its own at its clone, whose maps
	// were written before this spec was sent (set by Container.Start).
	UserNS bool `json:"userns,omitempty"`

	Debug bool `json:"debug,omitempty"`
}

// Root describes the root filesystem.
type Root struct {
	// Dir is a host directory bind-mounted onto itself (ccrun run --rootfs).
	Dir string `json:"dir,omitempty"`
	// Overlay is an overlayfs mounted by the init inside the container's mount
	// namespace, so that it vanishes with the container.
	Overlay *OverlayRoot `json:"overlay,omitempty"`
	// ReadOnly makes the root mount read-only once everything is mounted on it.
	ReadOnly bool `json:"readonly,omitempty"`
}

// OverlayRoot is an overlay mount as computed by package overlay.
type OverlayRoot struct {
	// Options is the mount data (lowerdir=...,upperdir=...,workdir=...[,userxattr]).
	// Lower directories may be relative to Chdir, which keeps the data under the
	// kernel's one-page limit for images of many layers.
	Options string `json:"options"`
	Chdir   string `json:"chdir,omitempty"`
	// Target is the host directory the overlay is mounted on (the container's
	// directory, which holds the upper and work directories: the mount hides
	// them, in the init's mount namespace only).
	Target string `json:"target"`
	// Chown, when set, asks the init to give the upper directory the owner of
	// the image's root before it mounts: the supervisor, outside the user
	// namespace, could not, the owner being one of the subordinate ids.
	Chown *Chown `json:"chown,omitempty"`
}

// Chown: give Path the owner and group of Like.
type Chown struct {
	Path string `json:"path"`
	Like string `json:"like"`
}

// Process is the command and its environment.
type Process struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Cwd  string   `json:"cwd"`
	// User is "uid[:gid]" or "name[:group]"; names are looked up in the container's
	// own /etc/passwd and /etc/group after pivot_root. Empty means 0:0.
	User     string `json:"user,omitempty"`
	Terminal bool   `json:"terminal,omitempty"`
	Rows     uint16 `json:"rows,omitempty"`
	Cols     uint16 `json:"cols,omitempty"`
}

// Caps are capability sets as bit masks (bit N = capability N, see capabilities(7)).
type Caps struct {
	Bounding    uint64 `json:"bounding"`
	Effective   uint64 `json:"effective"`
	Permitted   uint64 `json:"permitted"`
	Inheritable uint64 `json:"inheritable"`
	Ambient     uint64 `json:"ambient"`
}

// Mount is one entry of the mount plan: a new filesystem (Type set) or a bind
// mount of a host path (Type "bind"), mounted at Target inside the root.
type Mount struct {
	Type   string `json:"type"`             // "proc", "tmpfs", "devpts", "sysfs", "mqueue", "cgroup2", "bind"
	Source string `json:"source,omitempty"` // host path for "bind"; else a label shown in /proc/mounts
	Target string `json:"target"`           // absolute path inside the container
	// Options are fsconfig(2) key[=value] pairs ("mode=755", "newinstance").
	Options  []string `json:"options,omitempty"`
	ReadOnly bool     `json:"readonly,omitempty"`
	NoSuid   bool     `json:"nosuid,omitempty"`
	NoDev    bool     `json:"nodev,omitempty"`
	NoExec   bool     `json:"noexec,omitempty"`
	// Recursive binds the whole tree below Source (rbind).
	Recursive bool `json:"recursive,omitempty"`
	// File: the target is a file, created empty if missing (binding a device node).
	File bool `json:"file,omitempty"`
	// Optional: honoured for sysfs only, which falls back to a read-only bind of the
	// host's /sys when the kernel refuses a new instance.
	Optional bool `json:"optional,omitempty"`
}
