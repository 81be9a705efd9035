package mapper

import (
	"path/filepath"
	"testing"

	"github.com/celbridge/celbridge"
)

// TestRecording: the MixMonitor file of freepbx-cel-2's recorded calls (R1 inbound, R2
// outbound) rides on hangupTheCall, and a call without recording has none.
func TestRecording(t *testing.T) {
	for _, tc := range []struct{ dir, want string }{
		{"fp17-r1-recorded-inbound", "2026/12/02/in-0443334000-0674443322-20261202-020859-1796177339.45.wav"},
		{"fp17-r2-recorded-outbound", "2026/12/02/out-0939876543-802-20261202-020911-1796177351.47.wav"},
		{"a-dial-answered", ""},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", tc.dir)
			evs := mapFed(t, loadCaseConfig(t, dir), loadRows(t, filepath.Join(dir, "input.json")))
			hangups := 0
			for _, e := range evs {
				want := ""
				if e.RequestType == celbridge.Hangup {
					hangups++
					want = tc.want
				}
				if e.Recording != want {
					t.Errorf("%s: Recording = %q, want %q", e.RequestType, e.Recording, want)
				}
			}
			if hangups != 1 {
				t.Fatalf("%d hangups", hangups)
			}
		})
	}
}

func TestRecording_note(t *testing.T) {
	for _, tc := range []struct{ app, data, want string }{
		{"MixMonitor", "2026/12/02/a.wav,abi(x),", "2026/12/02/a.wav"},
		{"mixmonitor", "/var/spool/asterisk/monitor/b.wav", "/var/spool/asterisk/monitor/b.wav"},
		{"MixMonitor", "", ""},
		{"Queue", "600,t", ""},
		{"MixMonitor", "c\x1b[2J.wav,b", "c[2J.wav"},
	} {
		var r recording
		r.note(&celbridge.CELRow{AppName: tc.app, AppData: tc.data})
		if r.file != tc.want {
			t.Errorf("%s(%q): file %q, want %q", tc.app, tc.data, r.file, tc.want)
		}
	}
}
