package poller

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// downStore is a store that cannot be read: each Checkpoint fails with another text (as an
// outage's errors do), moves the clock one second and, after stopAfter calls, cancels the
// run.
type downStore struct {
	Store
	now       time.Time
	calls     int
	stopAfter int
	cancel    context.CancelFunc
}

func (s *downStore) Checkpoint(context.Context) (int64, bool, error) {
	s.calls++
	s.now = s.now.Add(time.Second)
	if s.calls == s.stopAfter {
		s.cancel()
	}
	return 0, false, fmt.Errorf("dial unix /run/mysqld/mysqld.sock: attempt %d: connection refused", s.calls)
}

// idleMapper has nothing to decide (Run asks it only for its Deadline when every poll fails).
type idleMapper struct{ Mapper }

func (idleMapper) Deadline() (time.Time, bool) { return time.Time{}, false }

// now is always due: the next poll at once.
type now struct{}

func (now) Next(t time.Time) time.Time { return t }

// TestPoller_Run_FailureLog: polls failing for 95 s with a different text each time are
// logged at the first failure and then once every 30 s, each line counting the polls since
// the one before.
func TestPoller_Run_FailureLog(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	st := &downStore{now: time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC), stopAfter: 96, cancel: cancel}
	var logs bytes.Buffer
	p := &Poller{
		Store:  st,
		Mapper: idleMapper{},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Now:    func() time.Time { return st.now },
	}
	if err := p.Run(ctx, now{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.Contains(line, "poll failed") {
			t.Errorf("unexpected line: %s", line)
			continue
		}
		i := strings.Index(line, "attempt ")
		j := strings.Index(line, "failed_polls=")
		if i < 0 || j < 0 {
			t.Fatalf("line lacks the error or the count: %s", line)
		}
		got = append(got, strings.Fields(line[i:])[1]+" "+line[j:])
	}
	want := []string{"1: failed_polls=1", "31: failed_polls=30", "61: failed_polls=30", "91: failed_polls=30"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("logged (attempt and count):\n%q\nwant\n%q", got, want)
	}
}
