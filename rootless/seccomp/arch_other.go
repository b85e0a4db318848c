//go:build !linux || !(amd64 || arm64)

package seccomp

// native is nil where ccrun has no syscall table: Compile refuses, and the user
// is told to run unconfined.
var native *arch
