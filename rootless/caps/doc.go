// Package caps is the vocabulary of Linux capabilities and the policy that turns
// docker's --cap-add, --cap-drop and --privileged into the five capability sets a
// container's first process starts with.
//
// # The lesson
//
// Root's power is not one switch but about forty: CAP_CHOWN lets a process change
// any file's owner, CAP_NET_ADMIN configure the network, CAP_SYS_ADMIN do almost
// anything (mount, set the hostname, create namespaces...). Each thread carries
// five sets of them (capabilities(7)):
//
//   - bounding: the most the thread can ever get again, even by executing a setuid
//     or file-capability program. Dropping from it is forever.
//   - permitted: what the thread may use; effective: what it is using right now.
//   - inheritable and ambient: what survives execve(2) into a program that does not
//     carry file capabilities. Ambient capabilities in particular are handed to
//     every child, so a container starts with both empty.
//
// Inside a user namespace, capabilities act only on what that namespace owns: a
// rootless container's CAP_SYS_ADMIN cannot mount over the host's /etc. It still
// opens a lot of kernel code to the container (every filesystem that can be
// mounted in a user namespace, for one), which is why the default set is small.
//
// # What this package does
//
// Parse and Name translate between "CAP_NET_ADMIN", "net_admin" and 12. Compute
// takes the flags and returns the sets for uid 0 as bit masks (bit N is
// capability N): bounding = permitted = effective, inheritable and ambient empty.
// The default is podman's set: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL,
// NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID and SYS_CHROOT. Docker adds
// MKNOD, NET_RAW and AUDIT_WRITE; podman dropped them (NET_RAW is how ping sockets
// were abused, CVE-2020-14386) and so does ccrun.
//
// When the container runs as another user (--user 1000), the init clears
// permitted and effective after switching uid, exactly as execve(2) would for a
// non-root program: the bounding set stays as computed here.
//
// # Read
//
// capabilities(7), capget(2), prctl(2) (PR_CAPBSET_DROP, PR_CAP_AMBIENT),
// user_namespaces(7).
//
// # See it
//
//	ccrun run --rm IMAGE grep Cap /proc/self/status
//	capsh --decode=00000000800405fb
package caps
