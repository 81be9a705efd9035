package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/celbridge/celbridge/internal/clitest"
)

// TestRun_SIGHUP: a SIGHUP does not kill the daemon. It reads the config file again: a bad
// file is reported and the daemon runs on; a good one changes the log level at once and names
// the sections that need a restart. Calls keep flowing throughout, and SIGTERM still stops it
// cleanly (stop's check).
func TestRun_SIGHUP(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	d := startRun(t, s.config)
	good, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	hup := func() {
		t.Helper()
		if err := d.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}

	if err := os.WriteFile(s.config, append(good, "\nnot toml at all\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	hup()
	clitest.WaitFor(t, 20*time.Second, "the bad file reported", func() bool { return strings.Contains(d.log.String(), "SIGHUP: the config file has errors") })

	changed := strings.Replace(strings.Replace(string(good), `level = "debug"`, `level = "warn"`, 1), `timeout = "2s"`, `timeout = "3s"`, 1)
	if err := os.WriteFile(s.config, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	hup()
	clitest.WaitFor(t, 20*time.Second, "the reload logged", func() bool { return strings.Contains(d.log.String(), "SIGHUP: configuration read again") })
	line := d.log.String()[strings.LastIndex(d.log.String(), "SIGHUP: configuration read again"):]
	line, _, _ = strings.Cut(line, "\n")
	if !strings.Contains(line, "sections=crm") || !strings.Contains(line, "log_level=WARN") {
		t.Errorf("reload line %q: want sections=crm and log_level=WARN", line)
	}

	debugLines := strings.Count(d.log.String(), "level=DEBUG")
	s.nowCall(t, 1, time.UTC)
	clitest.WaitFor(t, 20*time.Second, "the call's hangupTheCall at the CRM after two SIGHUPs", func() bool { return s.crm.hangups() == 1 })
	if n := strings.Count(d.log.String(), "level=DEBUG"); n != debugLines {
		t.Errorf("%d debug lines after the level went to warn", n-debugLines)
	}
	select {
	case <-d.Done():
		t.Fatalf("the daemon exited: %v\n%s", d.Err(), d.log)
	default:
	}
}
