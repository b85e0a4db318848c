package main

import (
	"flag"
	"slices"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRows(t *testing.T) {
	for _, tc := range []struct {
		args      string
		names     []string
		cmds      []string
		envs      []int
		wantError bool
	}{
		{args: "-scenario s -name a -- true x", names: []string{"a"}, cmds: []string{"true x"}, envs: []int{0}},
		{args: "-scenario s -env K=1 --- -name a -- true --- -name b -env L=2 -- false -v",
			names: []string{"a", "b"}, cmds: []string{"true", "false -v"}, envs: []int{1, 2}},
		{args: "-scenario s --- -name a -skip why", names: []string{"a"}, cmds: []string{""}, envs: []int{0}},
		{args: "-scenario s --- -- true", wantError: true}, // a row needs a name
	} {
		var c common
		fs := flag.NewFlagSet("time", flag.ContinueOnError)
		fs.SetOutput(new(strings.Builder))
		c.register(fs)
		rows, err := c.rows("time", fs, strings.Fields(tc.args))
		if tc.wantError {
			if err == nil {
				t.Errorf("%q: no error", tc.args)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		var names, cmds []string
		var envs []int
		for _, r := range rows {
			names, cmds, envs = append(names, r.res.Name), append(cmds, strings.Join(r.args, " ")), append(envs, len(r.env))
		}
		if !slices.Equal(names, tc.names) || !slices.Equal(cmds, tc.cmds) || !slices.Equal(envs, tc.envs) {
			t.Errorf("%q: names %q cmds %q envs %v, want %q %q %v", tc.args, names, cmds, envs, tc.names, tc.cmds, tc.envs)
		}
	}
}

func TestCompare(t *testing.T) {
	rep := &Report{Scenarios: []*Scenario{{ID: "a", Rows: []*Result{
		{Name: "peer", Median: 20, N: 3},
		{Name: "ccrun", Primary: true, Median: 10, N: 3},
		{Name: "failed", Error: "boom"},
	}}}}
	rep.compare()
	rows := rep.Scenarios[0].Rows
	if rows[0].Ratio != 0.5 || rows[1].Ratio != 0 || rows[2].Ratio != 0 {
		t.Errorf("ratios %v %v %v, want 0.5 0 0", rows[0].Ratio, rows[1].Ratio, rows[2].Ratio)
	}
	if rep.Scenarios[0].Primary != "ccrun" {
		t.Errorf("primary %q, want ccrun", rep.Scenarios[0].Primary)
	}
}

func TestTimeline(t *testing.T) {
	perf := `           bench 10/10  100.000000:       sched:sched_process_exec: filename=/bin/other pid=10 old_pid=10
           ccrun 11/11  100.001000:       sched:sched_process_exec: filename=/x/ccrun pid=11 old_pid=11
           ccrun 11/11  100.002000:       sched:sched_process_fork: comm=ccrun pid=11 child_comm=ccrun child_pid=12
           ccrun 11/11  100.002500:       sched:sched_process_fork: comm=ccrun pid=11 child_comm=ccrun child_pid=13
             exe 13/13  100.003000:       sched:sched_process_exec: filename=/proc/self/exe pid=13 old_pid=13
             exe 13/13  100.004000:      syscalls:sys_enter_pivot_root: new_root: 0x1, put_old: 0x2
             exe 13/13  100.005000:       sched:sched_process_exit: comm=exe pid=13 prio=120 group_dead=true
`
	evs, err := parsePerf(strings.NewReader(perf))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	printTimeline(&b, evs, "/x/ccrun")
	got := b.String()
	// Thread 12 never shows up as a process and is left out; 13 is indented.
	for _, want := range []string{"0.00 ms", "exec /x/ccrun", "13        forked", "3.00 ms", "pivot_root", "exit"} {
		if !strings.Contains(got, want) {
			t.Errorf("timeline lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, " 12 ") {
		t.Errorf("timeline shows thread 12:\n%s", got)
	}
}
