package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/celbridge/celbridge/internal/clitest"
)

// TestCLI_Version checks that the version, commit and date stamped with -ldflags (as
// `make build` does) are printed.
func TestCLI_Version(t *testing.T) {
	r := cli(t, nil, "version")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{clitest.Version, "commit " + clitest.Commit, "built " + clitest.Date} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version output %q lacks %q", r.stdout, want)
		}
	}
}

// TestCLI_Usage checks that check and status are listed and that a bad command is exit 2.
func TestCLI_Usage(t *testing.T) {
	r := cli(t, nil, "help")
	for _, want := range []string{"celbridge check -config FILE", "celbridge status -config FILE [-json]"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("help: exit %d, output lacks %q:\n%s", r.code, want, r.stdout)
		}
	}
	if r := cli(t, nil, "chek"); r.code != 2 || !strings.Contains(r.stderr, `unknown command "chek"`) {
		t.Errorf("unknown command: exit %d, stderr %q", r.code, r.stderr)
	}
}

var backfillSummaryLine = regexp.MustCompile(`(?m)^backfill of CEL ids 1\.\.374: 374 rows, (\d+) calls; requests: (\d+) received, (\d+) answered, (\d+) transferred, (\d+) hangup; (\d+) new, (\d+) already queued or delivered by an earlier run \(not sent again\); 0 failed$`)

// TestCLI_Backfill runs backfill without a terminal (no progress bar escape codes), checks
// its summary against what the CRM got, and that running it again sends nothing twice.
func TestCLI_Backfill(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	loadCapture(t, s.db)
	var sent int
	for run := 1; run <= 2; run++ {
		r := cli(t, nil, "backfill", "-config", s.config, "-from-id", "1")
		if r.code != 0 {
			t.Fatalf("backfill run %d: exit %d\n%s", run, r.code, r.stderr)
		}
		m := backfillSummaryLine.FindStringSubmatch(r.stderr)
		if m == nil {
			t.Fatalf("backfill run %d: no summary line in:\n%s", run, r.stderr)
		}
		if strings.ContainsAny(r.stderr, "\r\x1b") {
			t.Errorf("backfill run %d drew a progress bar without a terminal:\n%q", run, r.stderr)
		}
		total := 0
		for _, n := range m[2:6] {
			v, _ := strconv.Atoi(n)
			total += v
		}
		added, _ := strconv.Atoi(m[6])
		before, _ := strconv.Atoi(m[7])
		got := len(s.crm.received())
		if run == 1 {
			sent = got
			if calls, _ := strconv.Atoi(m[1]); calls == 0 || total != got || added != total || before != 0 {
				t.Errorf("summary %q: %d calls, %d requests, %d new; the CRM got %d", m[0], calls, total, added, got)
			}
		} else if got != sent || added != 0 || before != total {
			t.Errorf("the second backfill sent %d requests again and says %q; it must send none and say so", got-sent, m[0])
		}
	}
}
