package mapper

import (
	"strconv"
	"testing"

	"github.com/celbridge/celbridge"
)

// benchRows returns copies of every captured golden case's rows (not the h-* ones built by
// hand, so that the numbers stay comparable), each copy under its own uniqueids/linkedids,
// with increasing ids: a backfill-like stream of n rows or more.
func benchRows(b *testing.B, n int) []celbridge.CELRow {
	cases := goldenInputs(b, false)
	var rows []celbridge.CELRow
	for k := 0; len(rows) < n; k++ {
		suffix := "9" + strconv.Itoa(k)
		for _, rs := range cases {
			for _, r := range rs {
				r.ID = int64(len(rows) + 1)
				r.UniqueID += suffix
				r.LinkedID += suffix
				rows = append(rows, r)
			}
		}
	}
	return rows
}

// BenchmarkFeed measures Feed per CEL row over real call flows (ns/op is per row).
func BenchmarkFeed(b *testing.B) {
	rows := benchRows(b, 100_000)
	cfg := DefaultConfig()
	cfg.Groups = []Group{{Number: "600", Members: []string{"801", "802", "803"}}}
	b.ReportAllocs()
	b.ResetTimer()
	m := New(cfg)
	events := 0
	for i := 0; i < b.N; i++ {
		r := rows[i%len(rows)]
		if i >= len(rows) { // later laps: fresh ids so calls reopen instead of being unknown
			r.ID = int64(i + 1)
			r.LinkedID += "x" + strconv.Itoa(i/len(rows))
			r.UniqueID += "x" + strconv.Itoa(i/len(rows))
		}
		e, _ := m.Feed(r)
		events += len(e)
	}
	events += len(m.Flush())
	b.ReportMetric(float64(events)/float64(b.N), "events/row")
}

// BenchmarkWideCall maps one call with 5,000 channels (ns/op is per call). Before reach used
// an index it took seconds (cubic in the channels); it must stay well under a second.
func BenchmarkWideCall(b *testing.B) {
	rows := wideCallRows(wideN)
	b.ReportAllocs()
	for b.Loop() {
		MapAll(DefaultConfig(), rows)
	}
	b.ReportMetric(float64(len(rows)), "rows/call")
}

var wideN = 5000
