// Package program runs ccrun's pull program: the part of ccrun that talks to
// registries and image archives, and changes the image store through
// containers/storage (pulls, rmi, image prune; and images, for the sizes only
// the library knows), built as a program of its own (cmd/ccrun-pull) and
// embedded in the ccrun binary.
//
// # Why a second program
//
// Go runs every linked package's init function at every start of a process, used or
// not. containers/image brings about 400 packages (HTTP/2, gRPC through the
// encryption library, OpenPGP, two copies of docker's reference regexps), and their
// init costs about 5 ms of CPU and page faults, paid by each Go process a `ccrun run`
// starts: more than the rest of a run of an image already in the store.
// containers/storage alone, with its compressors, TOML and JSON libraries and
// graph drivers, cost about 1.7 ms of each start. So ccrun links only what a
// run needs (its own reader of the store, the kernel) and keeps all use of
// the two libraries in ccrun-pull, which it runs only for the commands that
// need them.
//
// # How it runs
//
// The Makefile builds ccrun-pull into cmd/ccrun first, and ccrun embeds it
// (go:embed). To run it, Run copies it into a sealed memfd (memfd_create(2) with
// F_SEAL_WRITE and friends) and executes that: nothing is unpacked on disk, the
// running program cannot be modified, and it is always the one ccrun was built with.
// A Request goes down as JSON over a socket on fd 3, a Reply comes back the same way;
// stdout and stderr are ccrun's, for progress. The program runs with ccrun's
// credentials, and dies with it (parent-death signal): in ccrun's user namespace
// when P1 runs it (ccrun pull, login), or, from a rootless `ccrun run`, which stays
// on the host, in a new user and mount namespace of its own (UserNS), which it is
// sent its request in only once newuidmap and newgidmap have mapped it.
//
// # See it
//
//	ccrun --debug pull oci:./busybox-oci
//
// logs `exec ccrun-pull` with its request (the password of a login left out).
package program
