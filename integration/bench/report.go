package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Scenario groups the rows measured for one question, in the order they were run.
type Scenario struct {
	ID      string    `json:"id"`
	Title   string    `json:"title"`
	Unit    string    `json:"unit"`
	Primary string    `json:"primary,omitempty"`
	Rows    []*Result `json:"rows"`
}

// Report is the JSON file `make bench` leaves behind.
type Report struct {
	Meta      map[string]string `json:"meta"`
	Scenarios []*Scenario       `json:"scenarios"`
}

func reportMain(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	out := fs.String("json", "", "write the report as JSON to `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("report: want one results file")
	}
	rep, err := readResults(fs.Arg(0))
	if err != nil {
		return err
	}
	rep.compare()
	rep.print(os.Stdout)
	if *out == "" {
		return nil
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, append(b, '\n'), 0o644)
}

// readResults reads the JSON lines bench time, rss and skip appended, and the
// {"meta": {...}} lines bench.sh wrote about the machine and the tools.
func readResults(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep := &Report{Meta: map[string]string{}}
	byID := map[string]*Scenario{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var line struct {
			Meta map[string]string `json:"meta"`
			Result
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for k, v := range line.Meta {
			rep.Meta[k] = v
		}
		if line.Scenario == "" {
			continue
		}
		r := line.Result
		s := byID[r.Scenario]
		if s == nil {
			s = &Scenario{ID: r.Scenario}
			byID[r.Scenario] = s
			rep.Scenarios = append(rep.Scenarios, s)
		}
		if s.Title == "" {
			s.Title = r.Title
		}
		if s.Unit == "" {
			s.Unit = r.Unit
		}
		s.Rows = append(s.Rows, &r)
	}
	return rep, sc.Err()
}

// compare sets each row's ratio: the primary row's median over the row's own, so
// below 1.0 means ccrun is faster (or smaller).
func (rep *Report) compare() {
	for _, s := range rep.Scenarios {
		var p *Result
		for _, r := range s.Rows {
			if r.Primary && r.N > 0 && p == nil {
				p = r
			}
		}
		if p == nil {
			continue
		}
		s.Primary = p.Name
		for _, r := range s.Rows {
			if r != p && r.N > 0 && r.Median > 0 {
				r.Ratio = p.Median / r.Median
			}
		}
	}
}

func (rep *Report) print(w io.Writer) {
	for _, k := range []string{"date", "kernel", "cpus", "load", "load_end", "cgroups", "ccrun"} {
		if v, ok := rep.Meta[k]; ok {
			fmt.Fprintf(w, "%-9s %s\n", k+":", v)
		}
	}
	for _, s := range rep.Scenarios {
		fmt.Fprintf(w, "\n%s [%s]\n", s.Title, s.Unit)
		fmt.Fprintf(w, "  %-52s %9s %9s %9s %5s  %s\n", "", "median", "min", "max", "n", "ccrun/this")
		var notes []string
		for _, r := range s.Rows {
			fmt.Fprintf(w, "  %-52s %s\n", r.label(), r.figures())
			if r.Note != "" {
				notes = append(notes, r.Note)
			}
		}
		for _, n := range notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}
}

func (r *Result) label() string {
	if r.Primary {
		return r.Name + " *"
	}
	return r.Name
}

func (r *Result) figures() string {
	switch {
	case r.Skipped != "":
		return "skipped: " + r.Skipped
	case r.Error != "":
		return "FAILED: " + firstLine(r.Error)
	}
	s := fmt.Sprintf("%9.1f %9.1f %9.1f %5d", r.Median, r.Min, r.Max, r.N)
	if r.Ratio > 0 {
		s += fmt.Sprintf("  %10.2f", r.Ratio)
	}
	if k := max(r.Batch, 1) * max(r.Concurrent, 1); k > 1 {
		s += fmt.Sprintf("  (%.1f %s per run)", r.Median/float64(k), r.Unit)
	}
	if len(r.Details) > 0 {
		var d []string
		for k, v := range r.Details {
			d = append(d, fmt.Sprintf("%s %.1f", k, v))
		}
		slices.Sort(d)
		s += "  (" + strings.Join(d, ", ") + ")"
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}
