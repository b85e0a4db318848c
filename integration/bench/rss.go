package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A runtime's processes are found by what they execute: /proc/PID/exe is compared by
// device and inode with the named binaries, so re-executions through /proc/self/exe,
// renamed argv[0] and other mount namespaces all still match.
type exeID struct{ dev, ino uint64 }

func rssMain(args []string) error {
	var c common
	var runs int
	var exes listFlag
	var sum string
	fs := flag.NewFlagSet("rss", flag.ContinueOnError)
	c.register(fs)
	fs.IntVar(&runs, "runs", 5, "number of runs")
	fs.Var(&exes, "exe", "a runtime process: `NAME=PATH` of its binary (repeatable)")
	fs.StringVar(&sum, "sum", "", "comma-separated NAMEs whose peaks make the headline figure (default: all)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	cmdArgs := c.args
	watch, err := exeTable(exes)
	if err != nil {
		return err
	}
	headline := strings.Split(sum, ",")
	if sum == "" {
		headline = nil
		for _, name := range watch {
			headline = append(headline, name)
		}
	}
	c.res.Unit = "MiB"
	c.res.Command = cmdArgs
	if c.res.Skipped != "" {
		return write(c.out, &c.res)
	}
	s, err := newSpawner(&c, cmdArgs)
	if err != nil {
		return err
	}
	perName := map[string][]float64{}
	for range runs {
		peaks, err := s.peakRSS(c.prepare, watch)
		if err != nil {
			c.res.Error = err.Error()
			c.res.Samples = nil
			break
		}
		total := 0.0
		for name, kb := range peaks {
			perName[name] = append(perName[name], kb/1024)
			if slices.Contains(headline, name) {
				total += kb / 1024
			}
		}
		c.res.Samples = append(c.res.Samples, total)
	}
	c.res.summarize()
	c.res.Details = map[string]float64{}
	for name, v := range perName {
		c.res.Details[name+" MiB"] = median(v)
	}
	return write(c.out, &c.res)
}

func exeTable(exes []string) (map[exeID]string, error) {
	t := map[exeID]string{}
	for _, e := range exes {
		name, path, ok := strings.Cut(e, "=")
		if !ok {
			return nil, fmt.Errorf("-exe %q: want NAME=PATH", e)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			return nil, fmt.Errorf("-exe %s: %w", path, err)
		}
		t[exeID{st.Dev, st.Ino}] = name
	}
	return t, nil
}

// peakRSS runs the command once while sampling /proc every millisecond. For each
// watched process it keeps the largest VmHWM (the kernel's own high-water mark of
// its resident set, so a peak between two samples still counts) and returns, per
// NAME, the sum over that NAME's processes, in KiB. A process that lives less than
// a millisecond can be missed; one that re-executes itself keeps its larger peak.
func (s *spawner) peakRSS(script string, watch map[exeID]string) (map[string]float64, error) {
	if err := prepare(script); err != nil {
		return nil, err
	}
	s.resetStderr()
	since := uptimeTicks() - 1 // processes older than the run are someone else's
	cmd, err := s.start()
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- s.wait(cmd) }()
	hwm := map[int]float64{} // pid -> KiB
	name := map[int]string{}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		scan(watch, since, hwm, name)
		select {
		case err := <-done:
			if err != nil {
				return nil, err
			}
			peaks := map[string]float64{}
			for _, n := range watch {
				peaks[n] = 0
			}
			for pid, kb := range hwm {
				peaks[name[pid]] += kb
			}
			return peaks, nil
		case <-tick.C:
		}
	}
}

// scan records the VmHWM of every running process whose binary is watched.
func scan(watch map[exeID]string, since int64, hwm map[int]float64, name map[int]string) {
	d, err := os.Open("/proc")
	if err != nil {
		return
	}
	defer d.Close()
	ents, _ := d.Readdirnames(-1)
	for _, e := range ents {
		pid, err := strconv.Atoi(e)
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat("/proc/"+e+"/exe", &st) != nil {
			continue
		}
		n, ok := watch[exeID{st.Dev, st.Ino}]
		if !ok || (hwm[pid] == 0 && startTicks(pid) < since) {
			continue
		}
		if kb := vmHWM(pid); kb > hwm[pid] {
			hwm[pid] = kb
			name[pid] = n
		}
	}
}

func vmHWM(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb
		}
	}
	return 0
}

// Start times in /proc/PID/stat count clock ticks since boot (proc(5)); USER_HZ is
// 100 on Linux.
const userHZ = 100

func uptimeTicks() int64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	secs, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return int64(secs * userHZ)
}

// startTicks is field 22 of /proc/PID/stat, counted after the command name, which
// may itself hold spaces and parentheses.
func startTicks(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0
	}
	t, _ := strconv.ParseInt(f[19], 10, 64)
	return t
}
