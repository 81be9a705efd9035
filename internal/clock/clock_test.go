package clock

import (
	"testing"
	"time"
)

// TestNowFollowsShift: Now is the real clock plus the build's shift (zero unless the suite runs
// with -tags clockshift and CELBRIDGE_CLOCK_SHIFT).
func TestNowFollowsShift(t *testing.T) {
	before := time.Now()
	got := Now()
	after := time.Now()
	if got.Before(before.Add(Shift())) || got.After(after.Add(Shift())) {
		t.Fatalf("Now() = %v, want between %v and %v (shift %v)", got, before.Add(Shift()), after.Add(Shift()), Shift())
	}
	if Tags == "" && Shift() != 0 {
		t.Fatalf("a normal build is shifted by %v", Shift())
	}
}
