package uidmap

import "golang.org/x/sys/unix"

func getxattr(path, name string, buf []byte) (int, error) {
	return unix.Getxattr(path, name, buf)
}
