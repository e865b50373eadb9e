package cli

import "time"

// Test hooks.

// WithInteractive overrides the terminal check of stdin.
func WithInteractive(b bool) Option { return func(c *config) { c.interactive = &b } }

// WithClock replaces time.Now for create.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithGetenv replaces os.Getenv.
func WithGetenv(f func(string) string) Option { return func(c *config) { c.getenv = f } }
