package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
)

type throughput struct {
	Rows        int64   `json:"rows"`
	Calls       int     `json:"calls"`
	Seconds     float64 `json:"seconds"`
	RowsPerSec  float64 `json:"rows_per_sec"`
	CallsPerSec float64 `json:"calls_per_sec"`
}

type backfillResult struct {
	throughput
	Events, WantEvents   int
	Duplicates           int       `json:",omitempty"`
	ReportedRows         int64     `json:",omitempty"`
	EventsPerSec         float64   `json:",omitempty"`
	PeakRSSMiB           float64   `json:"peak_rss_mib"`
	RSSProfileMiB        []float64 `json:"rss_profile_mib"` // at 10, 25, 50, 75, 100% of the run
	StoreMiBPer100kCalls float64   `json:",omitempty"`
}

type percentiles struct {
	N                          int
	MinMS, P50MS, P99MS, MaxMS float64
}

type latencyResult struct {
	Schedule         string
	Calls, Events    int
	Duplicates       int
	Received, Hangup percentiles
	TargetMS         float64
	PeakRSSMiB       float64
}

type dbCost struct {
	Polls                                   int
	IdlePolls                               int
	IdleMaxExamined                         int64
	EmptyPolls                              int // polls during the load that found nothing new
	EmptyMaxExamined                        int64
	BusyPolls                               int
	BusyReturned, BusyExamined, WorstExcess int64
}

type memoryResult struct {
	Calls, GeneratorPeakOpen, DaemonPeakOpen int
	PeakRSSMiB, HWMMiB, StoreMiB             float64
}

type machine struct {
	CPU     string
	NProc   int
	RAMMiB  int64
	MariaDB string
	Go      string
}

func (m *machine) fill() {
	m.NProc = runtime.NumCPU()
	m.Go = runtime.Version()
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if kib, ok := procMeminfo("MemTotal"); ok {
		m.RAMMiB = kib / 1024
	}
}

func procMeminfo(field string) (int64, bool) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			var n int64
			_, err := fmt.Sscanf(strings.TrimSpace(v), "%d", &n)
			return n, err == nil
		}
	}
	return 0, false
}

type loadResult struct {
	Rows       int64
	Calls      int
	Events     int
	Seconds    float64
	RowsPerSec float64
}

type results struct {
	Machine          machine
	Load             loadResult
	CLI              throughput // mariadb --quick, the read baseline
	CLIRounds        []float64
	Raw              throughput // a Go client, batches of 1000
	RawRounds        []float64
	DryRun           backfillResult
	DryRunRounds     []float64
	Send             backfillResult
	StubEventsPerSec float64
	StubAfter        float64 // the stub's capacity measured again after the send
	StubConcurrency  int
	Catchup          catchupResult
	Big              bigResult
	Live             []latencyResult
	DBCost           dbCost
	Memory           memoryResult

	bulkExpect expectation
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**NO**"
}

// median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Sorted(slices.Values(xs))
	if len(xs)%2 == 0 {
		return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return xs[len(xs)/2]
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "**NOT MET**"
}

// issue13 prints issue 13's targets, each with the ratio measured in this run and whether it
// is met; a target whose phase did not run says so.
func (r *results) issue13(w io.Writer) {
	fmt.Fprintf(w, "\nIssue 13 targets (ratios measured side by side in this run):\n\n")
	fmt.Fprintf(w, "| # | Target | Measured | Ratio | Result |\n|---|---|---|---|---|\n")
	row := func(n, target, measured, ratio, result string) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", n, target, measured, ratio, result)
	}
	const notRun = "not measured in this run"
	if d := r.DryRun; d.Rows > 0 && len(r.CLIRounds) > 0 {
		var ratios []string
		var rs []float64
		for i := range min(len(r.CLIRounds), len(r.DryRunRounds)) {
			rs = append(rs, r.DryRunRounds[i]/r.CLIRounds[i])
			ratios = append(ratios, fmt.Sprintf("%.0f/%.0f", r.DryRunRounds[i], r.CLIRounds[i]))
		}
		m := median(rs)
		row("1", "`backfill -dry-run` ≥ 0.85 × `mariadb --quick` (same rows, same SELECT-only user)",
			fmt.Sprintf("rows/s per round, dry-run/mariadb: %s", strings.Join(ratios, ", ")), fmt.Sprintf("%.2f (median)", m), met(m >= 0.85))
	} else {
		row("1", "`backfill -dry-run` ≥ 0.85 × `mariadb --quick`", notRun+" (phase raw)", "", "")
	}
	if s := r.Send; s.Rows > 0 && r.StubEventsPerSec > 0 {
		stub := (r.StubEventsPerSec + r.StubAfter) / 2
		ratio := s.EventsPerSec / stub
		ok := ratio >= 0.5 && s.Events == s.WantEvents && s.Duplicates == 0
		row("2", fmt.Sprintf("`backfill` (store, then send) ≥ 0.5 × the stub's capacity with a bare client (concurrency %d); nothing lost or repeated", r.StubConcurrency),
			fmt.Sprintf("%.0f requests/s (%d of %d, %d repeated, %.1f s in all) vs %.0f requests/s (%.0f before, %.0f after)",
				s.EventsPerSec, s.Events, s.WantEvents, s.Duplicates, s.Seconds, stub, r.StubEventsPerSec, r.StubAfter),
			fmt.Sprintf("%.2f", ratio), met(ok))
	} else {
		row("2", "`backfill` delivery ≥ 0.5 × the stub's capacity", notRun+" (phase send)", "", "")
	}
	if g := r.Big; g.Rows > 0 {
		row("3a", fmt.Sprintf("peak RSS of a %d-row `backfill` (store, then send) ≤ 64 MiB", g.Rows),
			fmt.Sprintf("peak %.1f MiB; %.1f / %.1f / %.1f / %.1f / %.1f MiB at 10/25/50/75/100%%; %d requests (want %d), %d repeated, %.0f s",
				g.PeakRSSMiB, g.RSSProfileMiB[0], g.RSSProfileMiB[1], g.RSSProfileMiB[2], g.RSSProfileMiB[3], g.RSSProfileMiB[4], g.Events, g.WantEvents, g.Duplicates, g.Seconds),
			fmt.Sprintf("%.2f of 64 MiB", g.PeakRSSMiB/64), met(g.PeakRSSMiB <= 64 && g.Events == g.WantEvents))
	} else if s := r.Send; s.Rows > 0 {
		row("3a", "peak RSS of a 10,000,000-row `backfill` ≤ 64 MiB",
			fmt.Sprintf("not run (add -rows-memory 10000000); the %d-row send peaked at %.1f MiB", s.Rows, s.PeakRSSMiB), "", "not measured")
	}
	if mm := r.Memory; mm.Calls > 0 {
		peak := max(mm.PeakRSSMiB, mm.HWMMiB)
		row("3b", fmt.Sprintf("`run` with %d calls open at once ≤ 64 MiB", mm.GeneratorPeakOpen),
			fmt.Sprintf("peak RSS %.1f MiB (VmHWM %.1f); the daemon saw %d open", mm.PeakRSSMiB, mm.HWMMiB, mm.DaemonPeakOpen),
			fmt.Sprintf("%.2f of 64 MiB", peak/64), met(peak <= 64))
	} else {
		row("3b", "`run` with 10,000 calls open ≤ 64 MiB", notRun+" (phase memory)", "", "")
	}
	if c := r.Catchup; c.Rows > 0 {
		ok := c.Ratio >= 0.85 && c.Duplicates == 0 && c.Mismatched == 0 && c.LiveEvents > 0
		row("4", fmt.Sprintf("`run` after %.0f days stopped (%.0f calls/day) reads ≥ 0.85 × `mariadb --quick`; every call as a backfill sends it; then polls as usual", c.Days, c.CallsPerDay),
			fmt.Sprintf("%d rows read in %.1f s (%.0f rows/s vs %.0f); all %d requests in %.1f s, %d repeated, %d of %d calls differ from a backfill; %d calls inserted after it delivered within %.0f ms of the last insert; peak RSS %.1f MiB",
				c.Rows, c.ReadSeconds, c.RowsPerSec, c.CLIRowsPerSec, c.Events, c.DeliveredSeconds, c.Duplicates, c.Mismatched, c.Total, c.LiveCalls, c.LiveMaxMS, c.PeakRSSMiB),
			fmt.Sprintf("%.2f", c.Ratio), met(ok))
	} else {
		row("4", "`run` catches up after 3 days stopped", notRun+" (phase catchup)", "", "")
	}
}

func (r *results) report(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "\nMachine: %d CPUs (%s), %d MiB RAM, MariaDB %s, %s\n", m.NProc, m.CPU, m.RAMMiB, m.MariaDB, m.Go)
	r.issue13(w)
	fmt.Fprintf(w, "\nAll measurements:\n\n")
	fmt.Fprintf(w, "| Measurement | Result | Target | Met |\n|---|---|---|---|\n")
	row := func(name, result, target, met string) {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name, result, target, met)
	}
	if r.Load.Rows > 0 {
		row("Load: generate + INSERT", fmt.Sprintf("%d rows (%d calls, %d events) in %.1f s: %.0f rows/s",
			r.Load.Rows, r.Load.Calls, r.Load.Events, r.Load.Seconds, r.Load.RowsPerSec), "", "")
	}
	if r.CLI.Rows > 0 {
		row("(a) `mariadb --quick` stream (the baseline)", fmt.Sprintf("%.0f rows/s, %.0f calls/s (best run, %.1f s)", r.CLI.RowsPerSec, r.CLI.CallsPerSec, r.CLI.Seconds), "", "")
	}
	if r.Raw.Rows > 0 {
		row("(a') Go client, batches of 1000", fmt.Sprintf("%.0f rows/s, %.0f calls/s (%.1f s)", r.Raw.RowsPerSec, r.Raw.CallsPerSec, r.Raw.Seconds), "", "")
	}
	if d := r.DryRun; d.Rows > 0 {
		// Each round pairs a raw pass with a dry-run under the same machine load; the median of
		// the paired ratios is the result (best-of-each is shown too).
		var ratios []float64
		var rounds []string
		for i := range min(len(r.CLIRounds), len(r.DryRunRounds)) {
			ratios = append(ratios, r.DryRunRounds[i]/r.CLIRounds[i])
			rounds = append(rounds, fmt.Sprintf("%.2f", ratios[i]))
		}
		slices.Sort(ratios)
		median := ratios[len(ratios)/2]
		if len(ratios)%2 == 0 {
			median = (ratios[len(ratios)/2-1] + ratios[len(ratios)/2]) / 2
		}
		row("(b) `backfill -dry-run`", fmt.Sprintf("%.0f rows/s, %.0f calls/s (best run, %.1f s); **%.2f × (a)** (median of rounds %s; best of each %.2f); %d requests printed (expected %d)",
			d.RowsPerSec, d.CallsPerSec, d.Seconds, median, strings.Join(rounds, ", "), d.RowsPerSec/r.CLI.RowsPerSec, d.Events, d.WantEvents),
			"≥ 0.85 × (a)", yes(median >= 0.85))
	}
	if s := r.Send; s.Rows > 0 {
		row("(c) `backfill` → CRM stub", fmt.Sprintf("%.0f rows/s, %.0f calls/s, %.0f requests/s (%.1f s); %.2f × (a), %.2f × (b); %d requests (expected %d), %d duplicates",
			s.RowsPerSec, s.CallsPerSec, s.EventsPerSec, s.Seconds, s.RowsPerSec/r.CLI.RowsPerSec, s.RowsPerSec/max(r.DryRun.RowsPerSec, 1), s.Events, s.WantEvents, s.Duplicates),
			fmt.Sprintf("≥ 0.5 × the stub (%.0f requests/s with celbridge's client, concurrency %d; mean of before and after)", (r.StubEventsPerSec+r.StubAfter)/2, r.StubConcurrency),
			yes(s.EventsPerSec >= 0.25*(r.StubEventsPerSec+r.StubAfter)))
	}
	for _, l := range r.Live {
		for _, p := range []struct {
			name string
			p    percentiles
		}{{"receivedTheCall", l.Received}, {"hangupTheCall", l.Hangup}} {
			row(fmt.Sprintf("Live `%s`: insert → %s", l.Schedule, p.name),
				fmt.Sprintf("p50 %.0f ms, p99 %.0f ms, max %.0f ms (n=%d)", p.p.P50MS, p.p.P99MS, p.p.MaxMS, p.p.N),
				fmt.Sprintf("p99 ≤ %.0f ms", l.TargetMS), yes(p.p.P99MS <= l.TargetMS))
		}
	}
	if c := r.DBCost; c.Polls > 0 {
		row("DB cost, idle poll", fmt.Sprintf("%d polls, max %d rows examined for 0 returned", c.IdlePolls, c.IdleMaxExamined),
			"≤ returned + 1", yes(c.IdleMaxExamined <= 1))
		row("DB cost, busy poll", fmt.Sprintf("%d polls returned %d rows, examined %d; worst poll examined returned + %d (%d empty polls during load, max %d examined)",
			c.BusyPolls, c.BusyReturned, c.BusyExamined, c.WorstExcess, c.EmptyPolls, c.EmptyMaxExamined),
			"≤ returned + 1", yes(c.WorstExcess <= 1 && c.EmptyMaxExamined <= 1))
	}
	if mm := r.Memory; mm.Calls > 0 {
		row(fmt.Sprintf("Memory: `run` with %d calls open at once", mm.GeneratorPeakOpen),
			fmt.Sprintf("peak RSS %.1f MiB (VmHWM %.1f MiB); daemon saw %d open calls", mm.PeakRSSMiB, mm.HWMMiB, mm.DaemonPeakOpen),
			"≤ 64 MiB", yes(max(mm.PeakRSSMiB, mm.HWMMiB) <= 64))
	}
	for _, b := range []struct {
		name string
		r    backfillResult
	}{{"(b) dry-run", r.DryRun}, {"(c) send", r.Send}} {
		if b.r.Rows == 0 {
			continue
		}
		p := b.r.RSSProfileMiB
		flat := len(p) == 5 && p[4] <= p[1]*1.25+4
		row("RSS across the 1M-row "+b.name, fmt.Sprintf("%.1f / %.1f / %.1f / %.1f / %.1f MiB at 10/25/50/75/100%%; peak %.1f MiB",
			p[0], p[1], p[2], p[3], p[4], b.r.PeakRSSMiB), "flat", yes(flat))
	}
	if s := r.Send; s.StoreMiBPer100kCalls > 0 {
		row("Store size", fmt.Sprintf("%.1f MiB per 100k calls (after the 1M-row backfill, delivered rows kept)", s.StoreMiBPer100kCalls), "", "")
	}
}
