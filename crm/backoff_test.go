package crm_test

import (
	"testing"
	"time"

	"github.com/celbridge/celbridge/crm"
)

func TestBackoff(t *testing.T) {
	fixed := func(v float64) func() float64 { return func() float64 { return v } }
	tests := []struct {
		name    string
		rnd     float64
		attempt int
		want    time.Duration
	}{
		{"First", 0.5, 1, time.Second},
		{"ZeroMeansFirst", 0.5, 0, time.Second},
		{"Doubles", 0.5, 2, 2 * time.Second},
		{"Doubles3", 0.5, 3, 4 * time.Second},
		{"Doubles6", 0.5, 6, 32 * time.Second},
		{"Capped", 0.5, 7, 60 * time.Second},
		{"CappedHuge", 0.5, 1 << 30, 60 * time.Second},
		{"JitterLow", 0, 1, 800 * time.Millisecond},
		{"JitterHigh", 0.75, 1, 1100 * time.Millisecond},
		{"JitterLowAtCap", 0, 10, 48 * time.Second},
		{"JitterHighAtCap", 0.75, 10, 66 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := crm.NewBackoff(fixed(tt.rnd))(tt.attempt); got != tt.want {
				t.Errorf("attempt %d, rnd %v: got %v, want %v", tt.attempt, tt.rnd, got, tt.want)
			}
		})
	}
}

func TestDefaultBackoff_Bounds(t *testing.T) {
	for attempt := 1; attempt <= 12; attempt++ {
		base := min(time.Second<<(attempt-1), time.Minute)
		for range 50 {
			got := crm.DefaultBackoff(attempt)
			if got < base*8/10 || got > base*12/10 {
				t.Fatalf("attempt %d: %v outside %v ±20%%", attempt, got, base)
			}
		}
	}
}
