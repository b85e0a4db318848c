// Package store keeps ccrun's images and containers in a containers/storage store:
// where the store lives, opening it with explicit options, listing and removing
// images, and creating the record and writable layer of each container.
//
// # The lesson
//
// An image is a stack of layers (tar archives of file changes) plus a config
// (entrypoint, env, working directory...). containers/storage
// (go.podman.io/storage) unpacks each layer once into a directory of its own
// (<graph root>/overlay/<layer id>/diff) and records which images and containers
// use which layers, in JSON files guarded by file locks (layers.lock,
// images.lock, containers.lock), so any number of ccrun processes can pull and
// run at the same time without a daemon. Two images that share a base share its
// layer directories: the layer id is a hash of the layer's content and of its
// parent's id.
//
// A container here is a store record (its id, its image) plus one more layer
// on top of the image's: a writable directory pair, diff/ (the overlay's upper
// directory) and work/. While a container record exists the store refuses to
// delete its image.
//
// Where things live (the store's two roots):
//
//	                graph root (images, layers)        run root (locks, caches)
//	root            /var/lib/ccrun/storage             /run/ccrun
//	rootless        $XDG_DATA_HOME/ccrun/storage       $XDG_RUNTIME_DIR/ccrun, or
//	                (~/.local/share/ccrun/storage)     $TMPDIR/ccrun-run-<uid>
//
// The graph root is opened with the overlay driver and skip_mount_home, so
// opening the store mounts nothing on the host: ccrun's init mounts each
// container's overlay inside the container's own mount namespace (package
// overlay), and containers/storage's Mount/Unmount bookkeeping, which assumes
// one shared mount namespace, is never used.
//
// Rootless, every command that touches the store runs as root of ccrun's user
// namespace, where uid 0 is you and uids 1..65535 are your subordinate ids. The
// store then unpacks a layer's files with their owners in that range, and marks
// opaque directories with user.overlay.* xattrs, the form an overlay mounted
// with userxattr reads.
//
// # Crashes
//
// A container started with --rm is marked so in its record, and the supervisor
// holds an exclusive flock(2) on <run root>/ccrun-containers/<id>.lock while it
// runs. The kernel drops the lock when the process dies, however it dies, so the
// next ccrun that finds an --rm record whose lock it can take knows its owner is
// gone and deletes it (CleanDead). A pull killed half-way leaves layers that
// containers/storage marked incomplete; the store deletes those the next time it
// loads its layer list.
//
// # Read
//
// containers-storage.conf(5), flock(2), user_namespaces(7),
// https://github.com/opencontainers/image-spec/blob/main/layer.md
//
// # See it
//
//	ccrun pull busybox && ls ~/.local/share/ccrun/storage/overlay
//	ccrun images --format json
package store
