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

// wideCallRows is one incoming call that brings n phones into one conference bridge, one
// after the other, then ends: a linkedid with n channels (issue 15.8: 5,000 froze polling).
func wideCallRows(n int) []celbridge.CELRow {
	var b rb
	inbound(&b)
	b.add(0, "ANSWER", trunk, "1.1", "1.1")
	b.add(0, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("conf", false))
	for i := range n {
		name := "PJSIP/" + strconv.Itoa(1000+i%9000) + "-" + strconv.Itoa(i)
		uid := "1." + strconv.Itoa(i+2)
		b.add(i/100, "CHAN_START", name, uid, "1.1", "exten", "s", "context", "from-internal")
		b.add(i/100, "ANSWER", name, uid, "1.1")
		b.add(i/100, "BRIDGE_ENTER", name, uid, "1.1", "extra", bridgeExtra("conf", false), "peer", trunk)
	}
	for i := range n {
		name := "PJSIP/" + strconv.Itoa(1000+i%9000) + "-" + strconv.Itoa(i)
		uid := "1." + strconv.Itoa(i+2)
		b.add(n/100+1, "BRIDGE_EXIT", name, uid, "1.1", "extra", bridgeExtra("conf", false))
		b.add(n/100+1, "HANGUP", name, uid, "1.1", "extra", hangupExtra(""))
		b.add(n/100+1, "CHAN_END", name, uid, "1.1")
	}
	end(&b, n/100+2, [2]string{trunk, "1.1"})
	return b.rows
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
