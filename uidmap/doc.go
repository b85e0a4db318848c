// Package uidmap computes the uid and gid mappings of a rootless container's user
// namespace and writes them with newuidmap(1) and newgidmap(1).
//
// # The lesson
//
// A user namespace starts with no mapping: every id inside shows as the overflow id
// 65534 and the process may do almost nothing. Writing /proc/PID/uid_map gives it one:
// each line "INSIDE OUTSIDE COUNT" maps a range of ids (user_namespaces(7)).
//
// An unprivileged process may write exactly one line, mapping one id inside to its own
// uid. That is enough for "root in the container is me", but a real image has files
// owned by other users (daemon, nobody, ...) and needs them mapped too. The system
// administrator lends each user a range of subordinate ids in /etc/subuid and
// /etc/subgid (subuid(5)):
//
//	alice:100000:65536
//
// and the setuid helpers newuidmap and newgidmap, from the uidmap package, write the
// mappings a user is entitled to. ccrun maps
//
//	0      -> your uid      (1 id)
//	1..N   -> the subordinate range (N = 65536 when available)
//
// so container root is you and container uid 1000 is host uid 100999.
//
// With no subordinate range, or no newuidmap, ccrun maps only 0 -> you and says so
// once: images whose files belong to other users will then fail to unpack.
//
// # See it
//
//	ccrun run --rootfs DIR cat /proc/self/uid_map
//	         0       1000          1
//	         1     100000      65536
package uidmap
