package mapper

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/celbridge/celbridge"
)

// TestFeedPanicIsInternalError: a panic inside Feed is a bug, not bad data: Feed recovers,
// skips the row and returns a warning wrapping celbridge.ErrInternal that names the row and
// where it panicked. Another call fed meanwhile maps as if nothing happened.
func TestFeedPanicIsInternalError(t *testing.T) {
	a := loadRows(t, filepath.Join("testdata", "s01-in-answered-customer-hangup", "input.json"))
	b := loadRows(t, filepath.Join("testdata", "s02-in-caller-cancel", "input.json"))
	bad := b[2].ID
	feedHook = func(r *celbridge.CELRow) {
		if r.ID == bad {
			var m map[string]int
			//lint:ignore SA5000 the panic is the point
			m["boom"]++ // a nil map write: the kind of bug FuzzFeed hunts
		}
	}
	t.Cleanup(func() { feedHook = nil })

	m := New(DefaultConfig())
	var ofA []celbridge.Event
	var internal, other int
	for _, r := range append(append([]celbridge.CELRow(nil), a...), b...) {
		evs, warn := m.Feed(r)
		switch {
		case errors.Is(warn, celbridge.ErrInternal):
			internal++
			msg := warn.Error()
			for _, want := range []string{"row " + strconv.FormatInt(bad, 10) + ":", "internalerror_test.go:", "row skipped"} {
				if !strings.Contains(msg, want) {
					t.Errorf("internal error %q does not say %q", msg, want)
				}
			}
		case warn != nil:
			other++
		}
		for _, e := range evs {
			if e.LinkedID == a[0].LinkedID {
				ofA = append(ofA, e)
			}
		}
	}
	if internal != 1 || other != 0 {
		t.Errorf("%d internal errors and %d other warnings, want 1 and 0", internal, other)
	}
	if got, want := formLines(ofA), formLines(straightRun(DefaultConfig(), a)); got != want {
		t.Errorf("the other call's requests changed:\n%s", lineDiff(want, got))
	}
}
