// Package rootless turns an ordinary process into a container: it enters a user
// namespace as an unprivileged user, starts the container's init in fresh mount, PID,
// UTS, IPC, network and cgroup namespaces, builds the root filesystem there, and
// finally execs the command. It is the part of ccrun that talks to the kernel.
//
// # The lesson
//
// A container is not a kernel object. It is an ordinary process that the kernel was
// asked to show a private view of the system:
//
//   - a user namespace (user_namespaces(7)) maps uid 0 inside to your own uid outside,
//     and uids 1..65535 to the subordinate range /etc/subuid lends you. Inside, the
//     process holds every capability, but only over objects its namespace owns;
//   - a mount namespace (mount_namespaces(7)) gives it its own mount table, so it can
//     mount an overlay, /proc and /dev and then pivot_root(2) into the new root without
//     the host ever seeing those mounts;
//   - a PID namespace (pid_namespaces(7)) makes the command PID 1, and when PID 1 dies
//     the kernel kills everything else in the namespace;
//   - UTS, IPC, network and cgroup namespaces privatise the hostname, System V IPC and
//     POSIX message queues, the network stack (only a loopback device), and the view of
//     /proc/self/cgroup.
//
// # The processes, and why so few
//
// Go cannot unshare(CLONE_NEWUSER) in a running program, because the Go runtime is
// always multi-threaded and the kernel refuses a user namespace to a threaded process.
// So ccrun starts itself again, and the new process gets its user namespace either
// from Go's clone or, built with make on linux/amd64, from ccrun's own entry point,
// a few instructions that run before its Go runtime does (entry_linux.go). It
// names each stage:
//
//	P0  ccrun                host, your uid. Parses the command line. For `run` it
//	                         does everything outside the container itself, root or
//	                         not: reads the image store, creates the container's
//	                         directory, asks for a cgroup, starts the init and maps
//	                         its ids with newuidmap/newgidmap, relays the terminal,
//	                         forwards signals, waits, cleans up, exits with the
//	                         container's status.
//	P1  ccrun (in userns)    only for the commands that change the store (pull,
//	                         images, rmi, image prune, login, logout) when not root:
//	                         the same command line, run again as "root" of a user
//	                         namespace (Reexec), where layer files can belong to
//	                         your subordinate ids.
//	P2  ccrun:[2:init]       PID 1 of the new namespaces: mounts, pivot_root, hostname,
//	                         loopback, drops privileges, execve()s the command, which
//	                         becomes PID 1. No ccrun code is left in the container.
//
// A rootless `ccrun run` is two processes, like crun's: P0, and the init, made
// in a new user namespace with the mount and PID ones (the init makes the
// network, IPC, UTS and cgroup ones itself), so that its new user namespace
// owns them all. (With the entry point there is a third for a moment: the
// process P0 executes unshares, forks the init as P0's child, and exits.) An
// earlier ccrun ran the whole run in P1 and cloned P2 from there: one more Go
// process start, and one more wait, each time, for work (reading the store,
// making a directory) that needs no namespace. What does need one is rare and
// gets a short-lived one of its own: a pull (the pull program, in a new user
// namespace), and deleting a container directory in which the container's other
// users, your subordinate ids, left what you may not delete from outside
// (RemoveAll).
//
// Capabilities are computed at execve (capabilities(7)): a process exec'd into a new
// user namespace before its uid_map is written runs with an unmapped uid and would get
// none. So the child of Go's clone, which holds every capability of its new namespace
// until it executes ccrun, first raises them all as ambient capabilities, which survive
// an execve by any uid. (An init made by the entry point has no such execve: it gets
// them from unshare(2) and keeps them.) The new process initialises Go meanwhile, and
// waits on its sync socket until P0 has run newuidmap: P0 sends the spec (or P1 its
// go-ahead) only then, and from then on the process's uid reads as 0 of the namespace.
// The init clears the ambient set before it execs the command.
//
// Every parent sets Pdeathsig=SIGKILL on its child from a goroutine locked to its OS
// thread (the signal fires when the parent *thread* exits; see package child): kill
// P0 with SIGKILL and the init dies, and with PID 1 the whole PID namespace. An
// execve that gains capabilities clears that signal (prctl(2)), which a child in a
// new user namespace may: each child sets it again first thing, and exits if its
// parent is already gone. The container's mounts live only in its own mount
// namespace, so nothing stays mounted either.
//
// # Talking between stages
//
// The stages share a SOCK_SEQPACKET socketpair passed as fd 3 (see sync.go): the spec
// goes down as JSON (never in argv or the environment), errors and the terminal's
// pseudoterminal master (SCM_RIGHTS) come back up. The socket is close-on-exec in P2,
// so a successful execve of the command shows up in P0 as end-of-file.
//
// # Read
//
// namespaces(7), user_namespaces(7), mount_namespaces(7), pid_namespaces(7),
// pivot_root(2), capabilities(7), openat2(2), open_tree(2), move_mount(2),
// fsopen(2), mount_setattr(2), pty(7), credentials(7).
//
// # See it
//
//	ccrun --debug run --rootfs ~/busybox-root true
//
// narrates each step: the clone flags, the newuidmap argv, every mount with its
// options, pivot_root and the final execve.
package rootless
