package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// settler waits, before each measured step, until the machine is quiet:
// other processes' CPU and I/O wait below a threshold over a short window.
// On a shared machine this keeps other people's bursts out of the numbers
// as far as waiting can, and counts the steps where it could not.
type settler struct {
	max     time.Duration // longest wait per step; 0 disables
	window  time.Duration
	busy    float64 // fraction of all CPUs, busy or waiting for I/O, above which the machine is busy
	steps   int
	noisy   int // steps that began on a busy machine after waiting max
	waited  time.Duration
	unknown bool // /proc/stat unreadable: settling disabled
}

func newSettler(max time.Duration) *settler {
	return &settler{max: max, window: 200 * time.Millisecond, busy: 0.25}
}

// wait returns once the machine is quiet, after s.max, or when ctx is done.
func (s *settler) wait(ctx context.Context) {
	if s == nil || s.max <= 0 || s.unknown {
		return
	}
	s.steps++
	start := time.Now()
	defer func() { s.waited += time.Since(start) }()
	for {
		busy, err := cpuBusy(ctx, s.window)
		if err != nil {
			s.unknown = true
			return
		}
		if busy < s.busy {
			return
		}
		if time.Since(start) >= s.max || ctx.Err() != nil {
			s.noisy++
			return
		}
	}
}

func (s *settler) describe() string {
	switch {
	case s == nil || s.max <= 0:
		return "measured steps did not wait for a quiet machine (-settle 0)"
	case s.unknown:
		return "the machine's load could not be read (/proc/stat), so steps did not wait for a quiet machine"
	}
	return fmt.Sprintf("before each measured step the run waited, up to %s, until other processes used less than %.0f%% of the CPUs (busy or waiting for I/O, over %s): %d of %d steps began on a busy machine all the same; %s spent waiting",
		s.max, s.busy*100, s.window, s.noisy, s.steps, s.waited.Round(time.Second))
}

// cpuBusy returns the fraction of CPU time, over window, that was not idle
// (I/O wait counts as busy).
func cpuBusy(ctx context.Context, window time.Duration) (float64, error) {
	a, err := cpuTimes()
	if err != nil {
		return 0, err
	}
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(window):
	}
	b, err := cpuTimes()
	if err != nil {
		return 0, err
	}
	total := b.total - a.total
	if total <= 0 {
		return 0, nil
	}
	return 1 - float64(b.idle-a.idle)/float64(total), nil
}

type cpuSample struct{ total, idle int64 }

// cpuTimes reads the aggregate line of /proc/stat: idle is the idle column
// alone, total every column.
func cpuTimes() (cpuSample, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return cpuSample{}, errors.New("/proc/stat: unexpected format")
	}
	var s cpuSample
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return cpuSample{}, fmt.Errorf("/proc/stat: %w", err)
		}
		s.total += n
		if i == 3 { // idle; iowait (i == 4) counts as busy
			s.idle = n
		}
	}
	return s, nil
}
