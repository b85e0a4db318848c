package ocitest

import (
	"archive/tar"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// BusyboxPath is Debian's static busybox (package busybox-static).
const BusyboxPath = "/bin/busybox"

// Busybox returns the files of a small root filesystem: the static busybox as
// /bin/busybox with a symbolic link per applet, /etc/passwd and /etc/group
// (root, user 1000, nobody), /tmp (1777), /root and /home/user.
func Busybox() ([]File, error) {
	bin, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, fmt.Errorf("read busybox (apt-get install busybox-static): %w", err)
	}
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("list busybox applets: %w", err)
	}
	files := []File{
		Dir("bin"), Dir("etc"), Dir("root"), Dir("home"),
		{Name: "home/user", Type: tar.TypeDir, Mode: 0o755, UID: 1000, GID: 1000},
		{Name: "tmp", Type: tar.TypeDir, Mode: 0o1777},
		{Name: "bin/busybox", Mode: 0o755, Content: string(bin)},
		Reg("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
		Reg("etc/group", "root:x:0:\ntty:x:5:\nstaff:x:50:user\nuser:x:1000:\nnogroup:x:65534:\n"),
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet != "busybox" {
			files = append(files, Symlink("bin/"+applet, "busybox"))
		}
	}
	return files, nil
}
