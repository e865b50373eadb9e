package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// MissingToolError is returned when a client program a backuper needs is
// not installed. It unwraps to exec.ErrNotFound (or the error of a path
// that does not exist).
type MissingToolError struct {
	// Tool is the program looked for, such as "pg_dump".
	Tool string
	// Package is the Debian package that provides it.
	Package string
	// Hint says how to point the backuper at the program instead.
	Hint string
	Err  error
}

// Error names the missing program and the package to install.
func (e *MissingToolError) Error() string {
	s := e.Tool + " not found"
	if e.Err != nil && !errors.Is(e.Err, exec.ErrNotFound) {
		s += " (" + e.Err.Error() + ")"
	} else {
		s += " in PATH"
	}
	s += ": install it (Debian/Ubuntu package " + e.Package + ")"
	if e.Hint != "" {
		s += " or " + e.Hint
	}
	return s
}

// Unwrap returns the cause.
func (e *MissingToolError) Unwrap() error { return e.Err }

// findTool resolves name (a path, or a name looked up in PATH) to a path.
func findTool(name, pkg, hint string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			err = ee.Err
		}
		return "", &MissingToolError{Tool: name, Package: pkg, Hint: hint, Err: err}
	}
	return p, nil
}

// tool runs one client program.
type tool struct {
	name   string // for messages
	path   string
	args   []string
	env    []string // added to the environment
	secret []byte   // if set, readable by the program at secretPath
	stdin  io.Reader
	out    io.Writer
}

// secretPath is where a program reads [tool.secret]: file descriptor 3,
// the read end of a pipe that holds it. Nothing is written to disk, and
// nothing is left behind if the process dies.
const secretPath = "/dev/fd/3"

// maxSecret bounds [tool.secret]: the pipe buffer must hold it all.
const maxSecret = 4 << 10

// maxStderr bounds the tool output kept for error messages.
const maxStderr = 8 << 10

// run runs the tool, killing it (and any process it started) if ctx is
// done. Where the system allows (Linux), the tool is also killed if this
// process dies, so that it never outlives its caller. A failure carries
// the tail of its standard error.
func (c tool) run(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, c.path, c.args...)
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdin = c.stdin
	cmd.Stdout = c.out
	var stderr tailBuffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	if c.secret != nil {
		if len(c.secret) > maxSecret {
			return fmt.Errorf("%s: secret too long", c.name)
		}
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		_, err = w.Write(c.secret)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		defer r.Close()
		if err != nil {
			return fmt.Errorf("%s: pass the option file: %w", c.name, err)
		}
		cmd.ExtraFiles = []*os.File{r}
	}
	err := runTied(cmd)
	if err == nil {
		return nil
	}
	if cerr := context.Cause(ctx); cerr != nil {
		return fmt.Errorf("%s: %w", c.name, cerr)
	}
	msg := strings.TrimSpace(stderr.String())
	if msg == "" {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return fmt.Errorf("%s: %w: %s", c.name, err, msg)
}

// output runs the tool and returns its standard output.
func (c tool) output(ctx context.Context) (string, error) {
	var b bytes.Buffer
	c.out = &b
	err := c.run(ctx)
	return b.String(), err
}

// tailBuffer keeps the last maxStderr bytes written to it.
type tailBuffer struct {
	b       []byte
	dropped bool
}

// Write keeps the tail of p.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - maxStderr; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
		t.dropped = true
	}
	return len(p), nil
}

// String returns what was kept, marked if the start was dropped.
func (t *tailBuffer) String() string {
	if t.dropped {
		return "..." + string(t.b)
	}
	return string(t.b)
}

// oldOptionDirAge is how old an option directory of an earlier version
// must be before [removeOldOptionDirs] removes it. Its tool reads the file
// as it starts, within moments of the directory's creation.
const oldOptionDirAge = 5 * time.Minute
