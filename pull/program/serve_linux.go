package program

import (
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/rootless/child"
)

// syncFD is the program's end of the socket Run made.
const syncFD = 3

// Serve is the program's main: it reads one Request from fd 3, answers it with
// handle, writes the Reply back and returns the exit code.
func Serve(handle func(Request) Reply) int {
	if t, err := unix.GetsockoptInt(syncFD, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || t != unix.SOCK_STREAM {
		fmt.Fprintf(os.Stderr, "%s: this program is run by ccrun (ccrun pull IMAGE), not by hand\n", Name)
		return 125
	}
	f := os.NewFile(syncFD, "request")
	defer f.Close()
	// The kernel clears the parent-death signal at an execve that gains
	// capabilities, and rootless this one does: ccrun's user namespace stage
	// holds the capabilities it raised as ambient ones, while this program,
	// executed as uid 0 of the namespace, gets the whole bounding set.
	if err := child.ParentAlive(f); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", Name, err)
		return 125
	}
	var req Request
	if err := json.NewDecoder(f).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "%s: read request: %v\n", Name, err)
		return 125
	}
	if err := json.NewEncoder(f).Encode(handle(req)); err != nil {
		fmt.Fprintf(os.Stderr, "%s: write reply: %v\n", Name, err)
		return 125
	}
	return 0
}
