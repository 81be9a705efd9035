// Package clock is where celbridge reads the wall clock. Production code that needs the
// current date (the outbox's timestamps, status, health, the poller's host-side clock) calls
// Now instead of time.Now, so that the whole test suite can be run with the clock moved: a
// build with the tag clockshift adds CELBRIDGE_CLOCK_SHIFT (a Go duration, e.g. 9600h for 400
// days) to every reading. A normal build cannot be shifted. Durations measured between two
// readings (time.Since on a local start) may use the time package directly.
package clock

import "time"

// Now returns the current time (moved by the test shift in a clockshift build).
func Now() time.Time { return time.Now().Add(shift) }

// Since returns the time elapsed since t on Now's clock.
func Since(t time.Time) time.Duration { return Now().Sub(t) }

// Shift returns how far Now is moved from the real clock (zero in a normal build).
func Shift() time.Duration { return shift }
