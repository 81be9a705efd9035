package poller

import (
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	base := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		spec string
		want time.Time // zero: parse error expected
	}{
		{"@every 1s", base.Add(time.Second)},
		{"@every 250ms", base.Add(250 * time.Millisecond)},
		{" @every 1m30s ", base.Add(90 * time.Second)},
		{"*/5 * * * *", base.Add(5 * time.Minute)},
		{"@hourly", base.Add(time.Hour)},
		{"@every 1ms", time.Time{}},
		{"@every soon", time.Time{}},
		{"every second", time.Time{}},
		{"", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := ParseSchedule(tt.spec)
			if tt.want.IsZero() {
				if err == nil {
					t.Fatalf("ParseSchedule(%q) = nil error, want one", tt.spec)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSchedule(%q): %v", tt.spec, err)
			}
			if got := s.Next(base); !got.Equal(tt.want) {
				t.Errorf("Next = %v, want %v", got, tt.want)
			}
		})
	}
}
