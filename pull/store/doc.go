// Package store keeps ccrun's images in a containers/storage store, and its
// containers beside them in directories of its own: where the store lives,
// reading its images, and creating and removing each container's record and
// writable directories. Package full adds what needs the library itself.
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
// A container is not a containers/storage container. A store container costs a
// writable layer and updates of containers.json and layers.json, each written
// atomically (a temporary file, fdatasync(2), rename(2)): about eleven such
// writes to create one and remove it, some 25 ms on these machines, more than
// the rest of a run. A ccrun container is instead a directory of ccrun's,
// <graph root>/ccrun-containers/<id>/, made with a few mkdir(2) and one small
// write, and deleted with one recursive removal:
//
//	container.json  its record (id, image id and name, created, --rm), written once
//	upper/ work/    the overlay's writable directory and the kernel's scratch one
//
// The init mounts the overlay on the container's directory itself, in its own
// mount namespace. (Containers of earlier versions also have merged/.) An --rm
// container that wrote nothing is not deleted but kept as a spare directory,
// spare-<id>, which the next container takes over with one rename(2): making
// and deleting directories is dear on ext4 without a journal (see
// spares_linux.go).
//
// The image's layers stay in the store, read-only and shared; a run only reads
// the store (it writes nothing there when the image is present). Since the
// store does not know these containers, ccrun keeps an image from removal
// itself: rmi and image prune take <graph root>/ccrun-containers.lock
// exclusively while they check the records and delete, and a run takes it
// shared while it creates its container, and looks the image up again under
// it. A container of an image that is gone therefore never exists, and the
// store's own bookkeeping (an image keeps its layers) protects the layers.
//
// ccrun itself never opens containers/storage, nor links it: this package
// reads the library's records itself (records.go): the image records in
// overlay-images/images.json, the config beside them, and the driver's
// lower-layers (or lower) file and l/ links, for the layer directories. That
// costs no library start-up (about 0.8 ms), nor the init of the ~100 packages
// the library links (about 1.7 ms of each start of ccrun), and it works in
// the unprivileged host process, outside the user namespace, where the overlay
// driver's start-up test mount fails. The library replaces those files
// atomically, so reading them needs no lock. What needs the library (pulls,
// removals, image sizes) is package full's, which only the pull program links:
// ccrun runs that program for pull, images, rmi and image prune.
//
// With many layers the overlay's options are given relative to the driver's
// directory (package overlay), so <graph root>/overlay/ccrun-containers is a
// symbolic link to ccrun's directory: the driver takes only directories there
// for layers.
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
// Rootless, every command that changes the store runs as root of a user
// namespace of ccrun's, where uid 0 is you and uids 1..65535 are your
// subordinate ids. The store then unpacks a layer's files with their owners in
// that range, and marks opaque directories with user.overlay.* xattrs, the form
// an overlay mounted with userxattr reads. A run of a stored image only reads
// the store (this package), as you, on the host: the store is yours. What it
// cannot do there is left to a process in a user namespace: give upper/ an
// image root owned by a subordinate id (the init does, see
// Container.ChownUpper), and delete what the container's other users left
// (Store.RemoveWith).
//
// # Crashes
//
// A container started with --rm is marked so in its record, and the supervisor
// holds an exclusive flock(2) on the container's directory while it runs. The
// kernel drops the lock when the process dies, however it dies, so the next
// ccrun that finds an --rm record whose lock it can take knows its owner is
// gone and deletes it (CleanDead). The record is written last, under the lock:
// a directory without one is a creation in progress, or one that crashed, which
// rmi and image prune delete (no creation runs while they hold their lock). A
// pull killed half-way leaves layers that containers/storage marked incomplete;
// the store deletes those the next time it loads its layer list.
//
// Stores used by an earlier ccrun may hold containers/storage containers (with
// their liveness locks in <run root>/ccrun-containers/): they still keep their
// image, and rmi -f deletes them as before. Only package full knows them: a run
// leaves them to rmi and image prune, which delete the dead --rm ones first.
//
// # Read
//
// containers-storage.conf(5), flock(2), user_namespaces(7),
// https://github.com/opencontainers/image-spec/blob/main/layer.md
//
// # See it
//
//	ccrun pull busybox && ls ~/.local/share/ccrun/storage/overlay
//	ccrun run busybox true && cat ~/.local/share/ccrun/storage/ccrun-containers/*/container.json
//	ccrun images --format json
package store
