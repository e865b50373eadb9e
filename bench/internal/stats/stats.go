// Package stats summarises repeated measurements and formats them.
package stats

import (
	"fmt"
	"slices"
	"time"
)

// Sample is the measurements of one thing, one per repetition.
type Sample []time.Duration

// Median returns the median, the mean of the middle two for an even count,
// or 0 for no measurements.
func (s Sample) Median() time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

// Min returns the smallest measurement, or 0.
func (s Sample) Min() time.Duration {
	if len(s) == 0 {
		return 0
	}
	return slices.Min(s)
}

// Max returns the largest measurement, or 0.
func (s Sample) Max() time.Duration {
	if len(s) == 0 {
		return 0
	}
	return slices.Max(s)
}

// Duration formats d with three significant digits in a unit that suits it:
// "41.2 µs", "3.07 ms", "1.25 s".
func Duration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return sig3(float64(d)/float64(time.Microsecond), "µs")
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond), "ms")
	default:
		return sig3(d.Seconds(), "s")
	}
}

func sig3(v float64, unit string) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	default:
		return fmt.Sprintf("%.2f %s", v, unit)
	}
}

// Ratio formats a/b as "1.23x", or "–" if either is missing.
func Ratio(a, b time.Duration) string {
	if a <= 0 || b <= 0 {
		return "–"
	}
	r := float64(a) / float64(b)
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0fx", r)
	case r >= 10:
		return fmt.Sprintf("%.1fx", r)
	default:
		return fmt.Sprintf("%.2fx", r)
	}
}
