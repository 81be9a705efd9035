package main

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestRun_StopsWhenStoreLost deletes the state file under a running daemon (idle, nothing
// to write) and checks that it stops with exit 1 and says what to do, with the backfill
// that resends what the lost file held, instead of writing on into the deleted file.
func TestRun_StopsWhenStoreLost(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	d := startRun(t, s.config)
	s.nowCall(t, 1, time.UTC)
	waitFor(t, "the call's hangupTheCall at the CRM", func() bool { return s.crm.hangups() == 1 })
	for _, p := range []string{s.store, s.store + "-wal", s.store + "-shm"} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("celbridge run still runs 20s after its store was deleted:\n%s", d.log)
	}
	var ee *exec.ExitError
	if !errors.As(d.err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit: %v, want exit status 1", d.err)
	}
	for _, want := range []string{"celbridge run: store " + s.store + " was deleted or moved away",
		"put it back", "celbridge backfill -from-id 14"} {
		if !strings.Contains(d.log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, d.log)
		}
	}
}
