package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/pull/program"
	"github.com/ccrun/ccrun/pull/ref"
)

var loginCommand = &command{
	Name:  "login",
	Usage: "login [flags] [REGISTRY]",
	Short: "Store credentials for a registry",
	Long: `Checks the user name and password against REGISTRY (default docker.io) and stores
them in $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json (gone after a
reboot), else ~/.config/containers/auth.json (root: /run/containers/0/auth.json).
Without -u or -p, asks on the terminal (the password without echo).

Examples:
  ccrun login registry.example.com:5000
  echo "$TOKEN" | ccrun login -u ci --password-stdin registry.example.com`,
	Interspersed: true,
	Flags:        loginFlags,
}

var logoutCommand = &command{
	Name:  "logout",
	Usage: "logout [REGISTRY]",
	Short: "Remove stored credentials for a registry",
	Long: `Removes the credentials 'ccrun login' stored for REGISTRY (default docker.io).
Credentials in ~/.docker/config.json are docker's and are left alone.`,
	Interspersed: true,
	Flags:        logoutFlags,
}

func loginFlags(fs *pflag.FlagSet) func(*globals, []string) error {
	var p pullSettings
	user := fs.StringP("username", "u", "", "user `name`")
	pass := fs.StringP("password", "p", "", "`password` (visible in ps: prefer --password-stdin)")
	stdin := fs.Bool("password-stdin", false, "read the password from stdin")
	fs.BoolVar(&p.tlsVerify, "tls-verify", true, "require HTTPS and verify the registry's certificate")
	fs.StringVar(&p.certDir, "cert-dir", "", "`directory` of CA certificates (*.crt) for the registry")
	return func(g *globals, args []string) error {
		registry, err := registryArg(args)
		if err != nil {
			return err
		}
		p.quiet = true
		req, err := p.request(g, program.OpLogin)
		if err != nil {
			return err
		}
		if *stdin {
			if *pass != "" {
				return usagef("--password and --password-stdin exclude each other")
			}
			*pass, err = readPasswordStdin(os.Stdin)
			if err != nil {
				return err
			}
			if *pass == "" {
				return usagef("--password-stdin: stdin held no password")
			}
		}
		if err := askCredentials(user, pass); err != nil {
			return err
		}
		req.Registry, req.Username, req.Password = registry, *user, *pass
		reply, err := runProgram(g, req)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "credentials stored in %s\n", reply.File)
		fmt.Println("Login Succeeded!")
		return nil
	}
}

func logoutFlags(fs *pflag.FlagSet) func(*globals, []string) error {
	return func(g *globals, args []string) error {
		registry, err := registryArg(args)
		if err != nil {
			return err
		}
		req := program.Request{Op: program.OpLogout, Registry: registry, Rootless: rootlessMode(), Debug: g.Debug}
		reply, err := runProgram(g, req)
		if reply.NotLoggedIn {
			return withHint(errors.New(reply.Error), "credentials elsewhere (~/.docker/config.json) are not ccrun's to remove")
		}
		if err != nil {
			return err
		}
		fmt.Printf("Removed login credentials for %s from %s\n", registry, reply.File)
		return nil
	}
}

func registryArg(args []string) (string, error) {
	switch len(args) {
	case 0:
		return "docker.io", nil
	case 1:
		r, err := ref.NormalizeRegistry(args[0])
		if err != nil {
			return "", usagef("%v", err)
		}
		return r, nil
	}
	return "", usagef("takes one registry")
}

func readPasswordStdin(r io.Reader) (string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// askCredentials prompts on the terminal for what the flags did not give.
func askCredentials(user, pass *string) error {
	if *user != "" && *pass != "" {
		return nil
	}
	if !isTerminal(0) {
		return usagef("no terminal to ask on: give -u and --password-stdin")
	}
	in := bufio.NewReader(os.Stdin)
	if *user == "" {
		fmt.Fprint(os.Stderr, "Username: ")
		l, err := in.ReadString('\n')
		if err != nil {
			return fmt.Errorf("read user name: %w", err)
		}
		*user = strings.TrimSpace(l)
	}
	if *pass == "" {
		fmt.Fprint(os.Stderr, "Password: ")
		l, err := readNoEcho(in)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return fmt.Errorf("read password: %w", err)
		}
		*pass = l
	}
	return nil
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// readNoEcho reads a line from the terminal on stdin with echo turned off
// (termios(3): clearing ECHO in c_lflag), restoring it afterwards.
func readNoEcho(in *bufio.Reader) (string, error) {
	old, err := unix.IoctlGetTermios(0, unix.TCGETS)
	if err != nil {
		return "", err
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ECHONL
	if err := unix.IoctlSetTermios(0, unix.TCSETS, &quiet); err != nil {
		return "", err
	}
	l, err := in.ReadString('\n')
	if rerr := unix.IoctlSetTermios(0, unix.TCSETS, old); rerr != nil {
		err = errors.Join(err, fmt.Errorf("restore terminal echo: %w", rerr))
	}
	return strings.TrimRight(l, "\r\n"), err
}
