package crm

import (
	"math/rand/v2"
	"time"
)

// Defaults of DefaultBackoff.
const (
	BackoffBase = time.Second
	BackoffMax  = 60 * time.Second
	// BackoffJitter is the relative spread: a wait w becomes a value in [w·0.8, w·1.2).
	BackoffJitter = 0.2
)

// DefaultBackoff is the wait after failed attempt n (1-based): 1s, 2s, 4s … doubling up to 60s,
// each ±20% at random so that calls failing together do not retry together.
func DefaultBackoff(attempt int) time.Duration {
	return backoff(attempt, BackoffBase, BackoffMax, rand.Float64)
}

// NewBackoff returns DefaultBackoff's policy with another random source: rnd must return
// values in [0, 1) and be safe for concurrent use (the Dispatcher calls it from its workers).
// Tests pass a fixed rnd.
func NewBackoff(rnd func() float64) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		return backoff(attempt, BackoffBase, BackoffMax, rnd)
	}
}

// backoff doubles base per attempt up to ceiling, then jitters. The cap comes before the
// jitter so that rows waiting at the cap still spread out (longest wait: ceiling·1.2).
func backoff(attempt int, base, ceiling time.Duration, rnd func() float64) time.Duration {
	d := base
	// Doubling stops at the cap, so a large attempt cannot overflow.
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return d + time.Duration(float64(d)*BackoffJitter*(2*rnd()-1))
}
