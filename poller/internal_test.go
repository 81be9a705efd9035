package poller_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/mapper"
)

// buggyMapper is the real mapper, except that it fails on one row as the real one does when
// it panics: a warning wrapping celbridge.ErrInternal.
type buggyMapper struct {
	*mapper.Mapper
	bad int64
}

func (b buggyMapper) Feed(r celbridge.CELRow) ([]celbridge.Event, error) {
	if r.ID == b.bad {
		return nil, fmt.Errorf("%w: row %d: panic at call.go:1; row skipped", celbridge.ErrInternal, r.ID)
	}
	return b.Mapper.Feed(r)
}

// TestTick_InternalErrorCountedApart: a bug of the mapper is logged as an error with the row
// id and counted in InternalErrors, not among malformed rows; the poll goes on.
func TestTick_InternalErrorCountedApart(t *testing.T) {
	r := newGapRig(t)
	x, y := capture(t)
	p := r.poller()
	p.Mapper = buggyMapper{mapper.New(mapper.DefaultConfig()), 3}
	tick(t, p) // the first start begins at the newest row: an empty table
	r.db.Insert(t, append(x, y...)...)
	tick(t, p)
	st := p.Stats()
	if st.InternalErrors.Load() != 1 || st.BadRows.Load() != 0 {
		t.Errorf("internal errors %d, bad rows %d; want 1 and 0", st.InternalErrors.Load(), st.BadRows.Load())
	}
	if st.RowsRead.Load() != int64(len(x)+len(y)) {
		t.Errorf("read %d rows, want all %d", st.RowsRead.Load(), len(x)+len(y))
	}
	var line string
	for l := range strings.SplitSeq(r.log.String(), "\n") {
		if strings.Contains(l, "internal error") {
			line = l
		}
	}
	if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "cel_id=3") {
		t.Errorf("log line %q: want an ERROR naming cel_id=3", line)
	}
}
