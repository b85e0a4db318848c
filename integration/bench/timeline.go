package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// timelineMain reads `perf script -F comm,pid,tid,time,event,trace` output (see
// trace.sh) and prints the run's process tree as a timeline: every exec, process
// fork, mount, pivot_root and exit of the processes descending from the first exec
// of -root, in milliseconds since that exec. Runtime threads are left out.
func timelineMain(args []string) error {
	fs := flag.NewFlagSet("timeline", flag.ContinueOnError)
	root := fs.String("root", "", "the `path` whose first exec starts the timeline")
	if err := fs.Parse(args); err != nil {
		return err
	}
	evs, err := parsePerf(os.Stdin)
	if err != nil {
		return err
	}
	printTimeline(os.Stdout, evs, *root)
	return nil
}

type perfEvent struct {
	pid, tid int
	t        float64 // seconds
	name     string  // e.g. sched:sched_process_exec
	trace    string
}

var perfLine = regexp.MustCompile(`^\s*(.*?)\s+(\d+)/(\d+)\s+(\d+\.\d+):\s+(\S+):\s*(.*)$`)

func parsePerf(r io.Reader) ([]perfEvent, error) {
	var evs []perfEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := perfLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[2])
		tid, _ := strconv.Atoi(m[3])
		t, _ := strconv.ParseFloat(m[4], 64)
		evs = append(evs, perfEvent{pid: pid, tid: tid, t: t, name: m[5], trace: m[6]})
	}
	return evs, sc.Err()
}

func field(trace, key string) string {
	for _, f := range strings.Fields(trace) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// printTimeline follows the tree from the root's exec, indented by depth. A forked
// child counts as a process (not a runtime thread) once it shows up as a pid of its
// own.
func printTimeline(w io.Writer, evs []perfEvent, root string) {
	var t0 float64
	depth := map[int]int{}
	last := map[int]float64{}
	pending := map[int]perfEvent{} // child pid -> its fork, printed if it is a process
	emit := func(e perfEvent, pid int, what string) {
		prev, ok := last[pid]
		if !ok {
			prev = e.t
		}
		fmt.Fprintf(w, "%8.2f ms %+7.2f  %-7d %s%s\n", (e.t-t0)*1000, (e.t-prev)*1000, pid,
			strings.Repeat("  ", depth[pid]), what)
		last[pid] = e.t
	}
	for _, e := range evs {
		if t0 == 0 {
			if e.name == "sched:sched_process_exec" && field(e.trace, "filename") == root {
				t0 = e.t
				depth[e.pid] = 0
				emit(e, e.pid, "exec "+root)
			}
			continue
		}
		if f, ok := pending[e.pid]; ok && e.pid == e.tid {
			delete(pending, e.pid)
			emit(f, e.pid, "forked")
		}
		if _, ok := depth[e.pid]; !ok {
			continue
		}
		switch e.name {
		case "sched:sched_process_fork":
			child, _ := strconv.Atoi(field(e.trace, "child_pid"))
			depth[child] = depth[e.pid] + 1
			pending[child] = e
		case "sched:sched_process_exec":
			emit(e, e.pid, "exec "+field(e.trace, "filename"))
		case "sched:sched_process_exit":
			if field(e.trace, "group_dead") == "true" {
				emit(e, e.pid, "exit")
			}
		default:
			emit(e, e.pid, strings.TrimPrefix(e.name, "syscalls:sys_enter_"))
		}
	}
}
