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
	// capabilities, which rootless this one may (started in a new user
	// namespace, it holds ambient capabilities only after its clone): set it
	// again rather than rely on the parent's.
	if err := child.ParentAlive(f); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", Name, err)
		return 125
	}
	var req Request
	if err := json.NewDecoder(f).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "%s: read request: %v\n", Name, err)
		return 125
	}
	reply := Reply{Error: fmt.Sprintf("%s: runs as uid %d, want 0 of a user namespace", Name, os.Geteuid())}
	if !req.Rootless || os.Geteuid() == 0 {
		// The request comes once the user namespace's maps are written.
		reply = handle(req)
	}
	if err := json.NewEncoder(f).Encode(reply); err != nil {
		fmt.Fprintf(os.Stderr, "%s: write reply: %v\n", Name, err)
		return 125
	}
	return 0
}
