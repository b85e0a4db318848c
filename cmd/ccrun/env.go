package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// parseEnv builds the container's extra environment the docker way: the --env-file
// files in order, then the -e flags, each "KEY=VALUE"; a bare "KEY" takes ccrun's own
// value of KEY and is left out when ccrun has none.
func parseEnv(files, flags []string, lookup func(string) (string, bool)) ([]string, error) {
	var out []string
	add := func(entry, where string) error {
		k, _, hasValue := strings.Cut(entry, "=")
		if k == "" || strings.ContainsAny(k, " \t\x00") {
			return fmt.Errorf("%s: invalid environment variable %q: want KEY=VALUE", where, entry)
		}
		if !hasValue {
			v, ok := lookup(k)
			if !ok {
				return nil
			}
			entry = k + "=" + v
		}
		out = append(out, entry)
		return nil
	}
	for _, f := range files {
		lines, err := readEnvFile(f)
		if err != nil {
			return nil, err
		}
		for i, l := range lines {
			if l == "" {
				continue
			}
			if err := add(l, fmt.Sprintf("--env-file %s line %d", f, i+1)); err != nil {
				return nil, usagef("%v", err)
			}
		}
	}
	for _, e := range flags {
		if err := add(e, "-e"); err != nil {
			return nil, usagef("%v", err)
		}
	}
	return out, nil
}

// readEnvFile returns the lines of an env file with leading white space trimmed, and
// blank lines and # comments as "" (so that errors can name the line). Values are
// taken literally: no quotes, no expansion.
func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read --env-file: %w", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimLeft(sc.Text(), " \t")
		if l == "" || strings.HasPrefix(l, "#") {
			lines = append(lines, "")
			continue
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read --env-file %s: %w", path, err)
	}
	return lines, nil
}
