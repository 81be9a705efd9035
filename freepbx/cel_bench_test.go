package freepbx

import (
	"testing"
	"time"

	"github.com/celbridge/celbridge/internal/loadgen"
	"github.com/celbridge/celbridge/internal/testdb"
)

// BenchmarkReadAfter measures CEL.ReadAfter over generated CEL (real call flows),
// in batches of 1000 as backfill reads; ns/op is per row.
func BenchmarkReadAfter(b *testing.B) {
	db := testdb.New(b)
	const n = 50_000
	for batch := range loadgen.New(1).Bulk(n, 5000) {
		if err := loadgen.Insert(b.Context(), db.Admin, "cel", batch); err != nil {
			b.Fatal(err)
		}
	}
	s, err := OpenCEL(b.Context(), db.ReaderDSN, "cel", time.UTC)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	var after int64
	for i := 0; i < b.N; {
		rows, err := s.ReadAfter(b.Context(), after, 1000)
		if err != nil {
			b.Fatal(err)
		}
		if len(rows) < 1000 {
			after = 0
		} else {
			after = rows[len(rows)-1].ID
		}
		i += len(rows)
	}
}
