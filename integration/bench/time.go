package main

import (
	"flag"
	"os/exec"
	"time"
)

// timeMain measures wall time. With several rows (separated by ---) it takes their
// samples in turn, one sample of each row per round, so that a machine whose load
// drifts (other jobs, thermal limits) weighs on every row alike.
func timeMain(args []string) error {
	var c common
	var runs, warmup, batch, concurrent int
	fs := flag.NewFlagSet("time", flag.ContinueOnError)
	c.register(fs)
	fs.IntVar(&runs, "runs", 20, "number of samples")
	fs.IntVar(&warmup, "warmup", 3, "untimed samples first (page cache, image store)")
	fs.IntVar(&batch, "batch", 1, "runs in sequence in one sample")
	fs.IntVar(&concurrent, "concurrent", 1, "runs at once in one sample")
	rows, err := c.rows("time", fs, args)
	if err != nil {
		return err
	}
	var live []*timedRow
	for _, r := range rows {
		r.res.Unit, r.res.Command, r.res.Batch, r.res.Concurrent = "ms", r.args, batch, concurrent
		if r.res.Skipped != "" {
			continue
		}
		s, err := newSpawner(r, r.args)
		if err != nil {
			return err
		}
		live = append(live, &timedRow{r, s})
	}
	for i := 0; i < warmup+runs; i++ {
		for _, t := range live {
			t.sample(i >= warmup, batch, concurrent)
		}
	}
	for _, r := range rows {
		r.res.summarize()
		if err := write(c.out, &r.res); err != nil {
			return err
		}
	}
	return nil
}

type timedRow struct {
	*common
	s *spawner
}

// sample takes one sample, and keeps it when counted; a failure ends the row.
func (t *timedRow) sample(counted bool, batch, concurrent int) {
	if t.res.Error != "" {
		return
	}
	d, err := t.s.sample(t.prepare, batch, concurrent)
	if err != nil {
		t.res.Error = err.Error()
		t.res.Samples = nil
		return
	}
	if counted {
		t.res.Samples = append(t.res.Samples, float64(d.Microseconds())/1000)
	}
}

// sample times batch rounds of concurrent runs: one clock from the first start to
// the last exit.
func (s *spawner) sample(script string, batch, concurrent int) (time.Duration, error) {
	if err := prepare(script); err != nil {
		return 0, err
	}
	s.resetStderr()
	t0 := time.Now()
	for range batch {
		if err := s.round(concurrent); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

// round starts n runs at once and waits for all of them.
func (s *spawner) round(n int) error {
	cmds := make([]*exec.Cmd, 0, n)
	var errs []error
	for range n {
		cmd, err := s.start()
		if err != nil {
			errs = append(errs, err)
			break
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := s.wait(cmd); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errs[0] // the others are usually the same failure
	}
	return nil
}
