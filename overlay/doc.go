// Package overlay plans a container's root filesystem as an overlay mount: the
// image's read-only layers, shared by every container of the image, under a
// private writable directory of the container's own.
//
// # The lesson
//
// overlayfs (see the kernel's Documentation/filesystems/overlayfs.rst) merges
// directory trees. A mount takes:
//
//   - lowerdir=A:B:C, read-only layers, the leftmost on top: a file in A hides the
//     same name in B. An image's layers are lower directories, the newest first;
//   - upperdir=U, where every write lands. Changing a lower file first copies it up
//     into U, so the layers below are never touched and many containers can share
//     them;
//   - workdir=W, an empty scratch directory on the same filesystem as U, which the
//     kernel uses to make copy-up and rename atomic.
//
// Deleting a lower file leaves a whiteout in U: a character device 0:0 with the
// file's name. A directory made "opaque" (xattr overlay.opaque=y) hides everything
// below it. Image layers carry the same two ideas as tar entries (.wh.NAME and
// .wh..wh..opq); the store turns them into the kernel's form when it unpacks a
// layer, so the lower directories are ready to stack.
//
// Inside a user namespace the kernel refuses the trusted.* xattrs overlayfs keeps
// its bookkeeping in, so a rootless mount adds the userxattr option and uses
// user.overlay.* instead (kernel 5.11+). The store writes opaque markers under
// the same prefix when it unpacks layers rootless: the two must agree.
//
// # What this package does
//
// It only computes; it never mounts. Plan turns a container's directories into
// the mount data, and ccrun's init mounts it inside the container's own mount
// namespace, so the mount exists only as long as the container does, and a
// ccrun killed with SIGKILL leaves nothing mounted on the host.
//
// The mount data of mount(2) must fit in one page (4096 bytes). Absolute paths
// into a layer store run to a hundred bytes each, so an image of forty layers does
// not fit. Like containers/storage, Plan then switches to short paths relative to
// the store's directory (its l/XXXXXXXX symbolic links, one per layer) and asks the
// mounter to chdir there first: 128 layers then fit in about 3.7 KiB. The new mount
// API (fsconfig(2)) limits each value to 256 bytes instead, and the whole list
// would not fit in one; there the mounter passes each lower directory on its own
// as lowerdir+ (kernel 6.8+), which Mount.Params spells out, and the same short
// paths keep every value small.
//
// # Read
//
// Documentation/filesystems/overlayfs.rst, mount(2), fsconfig(2),
// user_namespaces(7).
//
// # See it
//
//	ccrun --debug run --rm busybox cat /proc/self/mountinfo
//
// prints the overlay options the init used (first line of the container's own
// mount table), with the lower directories newest first.
package overlay
