package poller

import (
	"testing"
	"time"
)

// TestCelClock: the estimate is the smallest host-CEL offset of the last offsetWindow, stays
// when no sample comes (a quiet night), and keeps few samples however many batches a backlog
// has.
func TestCelClock(t *testing.T) {
	var c celClock
	host := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	if _, ok := c.now(host); ok {
		t.Fatal("an estimate before any sample")
	}
	c.observe(host, host.Add(-3*time.Second))                  // read 3 s late
	c.observe(host.Add(time.Second), host)                     // read 1 s late: the smallest
	c.observe(host.Add(2*time.Second), host.Add(-time.Second)) // 3 s late again
	if got, _ := c.now(host.Add(time.Hour)); !got.Equal(host.Add(time.Hour - time.Second)) {
		t.Errorf("estimate an hour later = %v, want host time - 1s", got)
	}
	if at, _ := c.host(host); !at.Equal(host.Add(time.Second)) {
		t.Errorf("host(%v) = %v, want 1s later", host, at)
	}
	// After the window the 1 s sample is gone: the newest samples decide.
	later := host.Add(offsetWindow + time.Minute)
	c.observe(later, later.Add(-2*time.Second))
	if o, _ := c.offset(); o != 2*time.Second {
		t.Errorf("offset after the window = %v, want 2s", o)
	}
	// A backlog: each batch's newest row is closer to now than the last one's.
	var b celClock
	for i := range 100_000 {
		h := host.Add(time.Duration(i) * time.Millisecond)
		b.observe(h, h.Add(-time.Hour+time.Duration(i)*time.Millisecond))
	}
	if len(b.samples) > 2 {
		t.Errorf("%d samples kept for a backlog, want few", len(b.samples))
	}
}
