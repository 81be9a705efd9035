package health

import (
	"testing"
	"time"
)

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 1500 * time.Millisecond: "2s", 4*time.Minute + 10*time.Second: "4m10s",
		2 * time.Hour: "2h", 2*time.Hour + 5*time.Minute + 20*time.Second: "2h5m", 76 * time.Hour: "3d4h",
	} {
		if got := Age(d); got != want {
			t.Errorf("Age(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestFindingString(t *testing.T) {
	for _, c := range []struct {
		f    Finding
		want string
	}{
		{Passed("ok"), "✓ ok"},
		{Finding{Outcome: Pass, Text: "ok", Fix: "ignored"}, "✓ ok"},
		{Finding{Outcome: Fail, Text: "off", Fix: "grant", Optional: true}, "✗ off → grant"},
		{Warned("hmm", "do x"), "! hmm → do x"},
		{Failed("bad", ""), "✗ bad"},
	} {
		if got := c.f.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.f, got, c.want)
		}
	}
}
