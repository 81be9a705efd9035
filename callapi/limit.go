package callapi

import (
	"net/netip"
	"sync"
	"time"
)

// badAddrs counts bad signatures per address in fixed windows.
type badAddrs struct {
	mu sync.Mutex
	m  map[netip.Addr]*badCount
}

type badCount struct {
	n     int
	until time.Time // end of the window
	limit int
}

// maxTracked bounds the table: past it, expired entries are dropped, then the oldest half.
const maxTracked = 10000

func (b *badAddrs) add(a netip.Addr, now time.Time, limit int, window time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[netip.Addr]*badCount{}
	}
	c := b.m[a]
	if c == nil || !now.Before(c.until) {
		if len(b.m) >= maxTracked {
			b.sweep(now)
		}
		c = &badCount{until: now.Add(window), limit: limit}
		b.m[a] = c
	}
	c.n++
}

func (b *badAddrs) blocked(a netip.Addr, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.m[a]
	return c != nil && now.Before(c.until) && c.n >= c.limit
}

func (b *badAddrs) sweep(now time.Time) {
	for a, c := range b.m {
		if !now.Before(c.until) {
			delete(b.m, a)
		}
	}
	for a := range b.m { // still full: an attack from many addresses; forget half
		if len(b.m) < maxTracked/2 {
			break
		}
		delete(b.m, a)
	}
}
