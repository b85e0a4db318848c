package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Result is one measured (or skipped, or failed) row: one tool in one scenario.
type Result struct {
	Scenario string `json:"scenario"`
	Title    string `json:"title,omitempty"`
	Name     string `json:"name"`
	// Primary marks the row the others are compared with (ccrun's).
	Primary bool      `json:"primary,omitempty"`
	Unit    string    `json:"unit,omitempty"`
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	N       int       `json:"n"`
	Samples []float64 `json:"samples,omitempty"`
	// Batch runs in sequence and Concurrent at once make one sample.
	Batch      int      `json:"batch,omitempty"`
	Concurrent int      `json:"concurrent,omitempty"`
	User       string   `json:"user,omitempty"`
	Command    []string `json:"command,omitempty"`
	// Details are secondary figures, such as each process's peak RSS.
	Details map[string]float64 `json:"details,omitempty"`
	// Ratio is the primary row's median divided by this row's (report fills it in).
	Ratio   float64 `json:"ratio,omitempty"`
	Error   string  `json:"error,omitempty"`
	Skipped string  `json:"skipped,omitempty"`
	Note    string  `json:"note,omitempty"`
}

// common are the flags every measuring command shares. A scenario's flags apply
// to all its rows; a row adds its name and may add environment or its own prepare.
type common struct {
	out     string
	res     Result
	user    string
	env     listFlag
	dir     string
	prepare string
	args    []string // the command
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.out, "out", "", "append the results as JSON lines to `file` (default stdout)")
	fs.StringVar(&c.res.Scenario, "scenario", "", "scenario `id`, e.g. a-rootless")
	fs.StringVar(&c.res.Title, "title", "", "scenario title for the table")
	fs.StringVar(&c.user, "user", "", "run CMD as this `user`, with a clean environment")
	fs.StringVar(&c.dir, "dir", "", "working `directory` of CMD")
	c.registerRow(fs, true)
}

// registerRow declares a row's own flags; env and prepare only when the scenario
// has not declared them on the same flag set.
func (c *common) registerRow(fs *flag.FlagSet, withShared bool) {
	fs.StringVar(&c.res.Name, "name", "", "row name, e.g. crun run")
	fs.BoolVar(&c.res.Primary, "primary", false, "this is the row the others are compared with")
	fs.StringVar(&c.res.Note, "note", "", "a remark printed under the table")
	fs.StringVar(&c.res.Skipped, "skip", "", "do not measure this row, and say `why`")
	if withShared {
		fs.Var(&c.env, "env", "add `KEY=VALUE` to CMD's environment (repeatable)")
		fs.StringVar(&c.prepare, "prepare", "", "shell `command` run as the caller before each sample, not timed")
	}
}

func (c *common) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.res.Scenario == "" || c.res.Name == "" {
		return fmt.Errorf("%s: -scenario and -name are required", fs.Name())
	}
	c.res.User = c.user
	c.args = fs.Args()
	return nil
}

// rows splits `SCENARIO FLAGS --- ROW FLAGS -- CMD... --- ROW FLAGS -- CMD...` into
// one common per row; without ---, the flags and command make a single row.
func (c *common) rows(name string, fs *flag.FlagSet, args []string) ([]*common, error) {
	groups := [][]string{{}}
	for _, a := range args {
		if a == "---" {
			groups = append(groups, []string{})
			continue
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], a)
	}
	if len(groups) == 1 {
		return []*common{c}, c.parse(fs, args)
	}
	if err := fs.Parse(groups[0]); err != nil {
		return nil, err
	}
	var rows []*common
	for _, g := range groups[1:] {
		r := *c
		r.env = slices.Clone(c.env)
		rfs := flag.NewFlagSet(name+" row", flag.ContinueOnError)
		r.registerRow(rfs, false)
		rfs.Var(&r.env, "env", "add `KEY=VALUE` to CMD's environment (repeatable)")
		rfs.StringVar(&r.prepare, "prepare", c.prepare, "shell `command` run before each sample")
		if err := r.parse(rfs, g); err != nil {
			return nil, err
		}
		rows = append(rows, &r)
	}
	return rows, nil
}

// write appends r as one JSON line to path, or prints it when path is empty.
func write(path string, r *Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "" {
		_, err = os.Stdout.Write(b)
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// summarize fills in the median, min and max of the samples.
func (r *Result) summarize() {
	r.N = len(r.Samples)
	if r.N == 0 {
		return
	}
	r.Median = median(r.Samples)
	r.Min = slices.Min(r.Samples)
	r.Max = slices.Max(r.Samples)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func skipMain(args []string) error {
	var c common
	fs := flag.NewFlagSet("skip", flag.ContinueOnError)
	c.register(fs)
	fs.StringVar(&c.res.Skipped, "reason", "", "why the row was not measured")
	// The flags of time and rss are accepted, so a script can skip a row it would
	// have measured with the same arguments.
	for _, n := range []string{"runs", "warmup", "batch", "concurrent"} {
		fs.Int(n, 0, "ignored")
	}
	var ignored listFlag
	fs.Var(&ignored, "exe", "ignored")
	fs.String("sum", "", "ignored")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return write(c.out, &c.res)
}
