// Package full opens ccrun's store with containers/storage (go.podman.io/storage)
// as well, for what only the library can do: pulls (Storage, BeginPull), image
// sizes (Images), removals (Remove, Prune), and the containers/storage
// containers of earlier ccrun versions (legacy_linux.go).
//
// # Why a package of its own
//
// Go runs the init function of every package a program links, at each start,
// used or not. containers/storage brings about 100 packages (compressors, a
// TOML parser, JSON and digest libraries, the graph drivers); their init and
// the larger binary cost about 1.7 ms of each start (ccrun version: 3.9 ms
// with them, 2.2 ms without). Package store reads what a run needs (the image
// records, configs and layer directories) itself, and makes ccrun's
// containers; only the pull program (cmd/ccrun-pull), which ccrun runs for
// pull, images, rmi and image prune, links this package and with it the
// library. A full Store is a store.Store with the library beside
// it: everything store reads, it reads the same way.
//
// # See it
//
//	go list -deps ./cmd/ccrun | grep podman    # nothing
//	ccrun --debug images                       # exec ccrun-pull {"op":"images",...}
package full
