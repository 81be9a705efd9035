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
//
// STYLE.md §2.7 suggests river's n⁴ s ±10%, a policy for jobs that can wait. A CRM outage is
// better served by doubling: the first retries come within seconds (a restarting CRM or a
// dropped connection is usually back by then, and the call shows in the CRM while it still
// rings), where n⁴ waits 16s after the second failure and 81s after the third. The 60s cap
// means that after a long outage everything is delivered within about a minute of the CRM's
// return (at most 72s with the jitter; README "CRM outage"). The ±20% spread is wider than
// river's because an outage makes many rows fail at the same moment, and at the cap they
// would otherwise come back in bursts.
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
