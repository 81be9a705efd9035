package mapper_test

import (
	"testing"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/loadgen"
	"github.com/celbridge/celbridge/mapper"
)

// BenchmarkFeed_Backfill measures Feed per row over what a backfill reads: the load
// generator's clones of the real call flows, interleaved as concurrent calls with times
// that only move forward (BenchmarkFeed's copies jump back in time at every case, which
// makes the clock's warnings most of its cost).
func BenchmarkFeed_Backfill(b *testing.B) {
	g := loadgen.New(1, loadgen.WithMaxCalls(5000))
	var rows []celbridge.CELRow
	for {
		burst, ok := g.Next()
		if !ok {
			break
		}
		rows = append(rows, burst.Rows...)
	}
	b.ReportAllocs()
	b.ResetTimer()
	events := 0
	for b.Loop() {
		m := mapper.New(loadgen.MapperConfig())
		for _, r := range rows {
			evs, _ := m.Feed(r)
			events += len(evs)
		}
		events += len(m.Flush())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
	b.ReportMetric(float64(events)/float64(b.N*len(rows)), "events/row")
}
