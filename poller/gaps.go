package poller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/celbridge/celbridge"
)

// Gaps: auto-increment ids can become visible out of order (concurrent inserts commit in any
// order), so a missing id below the newest row may still come. A gap is timed on this host's
// clock from the moment the poller first missed it, whatever the rows' eventtimes say (a PBX
// clock or a mysql.timezone that is hours off must not make a fresh gap look old), and the
// times are kept in the store, so that a `once` from cron does not start the wait again at
// every run.

// MetaStore keeps small named values beside the checkpoint. When the Poller's Store also
// implements it (*store.DB does), the gaps' first-missed times survive a restart.
type MetaStore interface {
	Meta(ctx context.Context, name string) (value string, ok bool, err error)
	SetMeta(ctx context.Context, name, value string) error
}

// gapsMeta is the MetaStore name of the gaps: a JSON object of id -> unix milliseconds.
const gapsMeta = "poller.gaps"

// holdBack reports whether to stop before row next, leaving it and the rows after it to the
// next poll: ids are missing just before it, no poll has missed them before (in this process
// or, through the store, an earlier one), and next is at the live edge (its eventtime within
// GapTimeout of the newest row read, both on the PBX's clock). A row committed a moment late
// by a concurrent transaction is then fed in id order, which the mapper needs (fed after the
// rows that follow it, a late CHAN_START loses its call). The next poll feeds the rows after
// the gap whatever is still missing; the gap is waited for up to GapTimeout and fed late if it
// comes. Rows of a backlog are not held: no transaction stays open that long.
func (p *Poller) holdBack(next celbridge.CELRow, newest time.Time, seenBefore int64) bool {
	missing := next.ID - p.high - 1
	if missing <= 0 || missing > maxTrackedGap || next.ID <= seenBefore {
		return false
	}
	if _, known := p.gaps[p.high+1]; known {
		return false
	}
	return newest.Sub(next.EventTime) < p.gapTimeout()
}

// newestTime is the latest eventtime among rows.
func newestTime(rows []celbridge.CELRow) time.Time {
	var t time.Time
	for _, r := range rows {
		if r.EventTime.After(t) {
			t = r.EventTime
		}
	}
	return t
}

// noteGap records the ids from..to as missing, since now unless they were missed before.
func (p *Poller) noteGap(from, to int64) {
	if from > to {
		return
	}
	if to-from+1 > maxTrackedGap {
		p.stats.GapsGivenUp.Add(1)
		p.logger().Warn("CEL ids jump; not waiting for so many missing rows", "from", from, "to", to)
		return
	}
	now := p.now()
	for id := from; id <= to; id++ {
		if _, ok := p.gaps[id]; !ok {
			p.gaps[id] = now
		}
	}
}

// giveUpGaps forgets ids missing for GapTimeout or longer: a rolled-back insert never fills.
func (p *Poller) giveUpGaps() {
	var given []int64
	var waited time.Duration
	now := p.now()
	for id, since := range p.gaps {
		if w := now.Sub(since); w >= p.gapTimeout() {
			given = append(given, id)
			waited = max(waited, w)
			delete(p.gaps, id)
		}
	}
	if len(given) > 0 {
		slices.Sort(given)
		p.stats.GapsGivenUp.Add(int64(len(given)))
		p.logger().Warn("gave up waiting for missing CEL ids", "count", len(given), "first", given[0], "last", given[len(given)-1],
			"waited", waited.Round(time.Millisecond))
	}
}

// loadGaps reads the gaps an earlier process was waiting for (those above the cursor).
func (p *Poller) loadGaps(ctx context.Context, cursor int64) error {
	p.gaps = map[int64]time.Time{}
	ms, ok := p.Store.(MetaStore)
	if !ok {
		return nil
	}
	v, found, err := ms.Meta(ctx, gapsMeta)
	if err != nil {
		return fmt.Errorf("load missing cel ids: %w", err)
	}
	if !found {
		return nil
	}
	var saved map[string]int64
	if err := json.Unmarshal([]byte(v), &saved); err != nil {
		p.logger().Warn("ignoring the saved missing CEL ids: unreadable", "err", err)
		return nil
	}
	for k, at := range saved {
		if id, err := strconv.ParseInt(k, 10, 64); err == nil && id > cursor {
			p.gaps[id] = time.UnixMilli(at)
		}
	}
	p.saved = v
	return nil
}

// saveGaps stores the gaps when they changed. A failure is only logged: the gaps would be
// waited for again, nothing is lost.
func (p *Poller) saveGaps(ctx context.Context) {
	ms, ok := p.Store.(MetaStore)
	if !ok {
		return
	}
	out := make(map[string]int64, len(p.gaps))
	for id, at := range p.gaps {
		out[strconv.FormatInt(id, 10)] = at.UnixMilli()
	}
	b, _ := json.Marshal(out) // map keys are sorted: the same gaps give the same text
	if string(b) == p.saved || (len(out) == 0 && p.saved == "") {
		return
	}
	if err := ms.SetMeta(ctx, gapsMeta, string(b)); err != nil {
		p.logger().Warn("save missing CEL ids", "err", err)
		return
	}
	p.saved = string(b)
}
