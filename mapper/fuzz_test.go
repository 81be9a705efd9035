package mapper

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/celbridge/celbridge"
)

// goldenInputs returns the rows of the golden cases, one slice per case: the captured ones
// sorted by name, then, withHand, the h-* cases built by hand. FuzzFeed's seeds name a case by
// its index (testdata/fuzz/FuzzFeed/60b400fa3cf53eef: 41, s07c), so the hand-built cases come
// last and adding one moves no captured case.
func goldenInputs(tb testing.TB, withHand bool) [][]celbridge.CELRow {
	tb.Helper()
	files, err := filepath.Glob("testdata/*/input.json")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no golden inputs: %v", err)
	}
	hand := func(f string) bool { return strings.HasPrefix(filepath.Base(filepath.Dir(f)), "h-") }
	sort.SliceStable(files, func(i, j int) bool {
		if hand(files[i]) != hand(files[j]) {
			return !hand(files[i])
		}
		return files[i] < files[j]
	})
	var out [][]celbridge.CELRow
	for _, f := range files {
		if withHand || !hand(f) {
			out = append(out, loadRows(tb, f))
		}
	}
	return out
}

// FuzzFeed feeds real call rows with one row's fields replaced by arbitrary strings, that row
// duplicated elsewhere, and the order shuffled. The mapper must never panic (Feed's recover is
// bypassed) and must keep its events well-formed.
func FuzzFeed(f *testing.F) {
	cases := goldenInputs(f, true)
	for i, rows := range cases {
		r := rows[len(rows)/2]
		f.Add(uint8(i), uint16(len(rows)/2), r.EventType, r.ChanName, r.UniqueID, r.LinkedID, r.Extra, r.Peer, r.AppData, uint64(0))
	}
	f.Add(uint8(0), uint16(0), "CHAN_START", "", "", "", "", "", "", uint64(0xdeadbeef))
	f.Add(uint8(3), uint16(2), "BRIDGE_ENTER", "Local/;1", "x", "1795652928.0", `{"bridge_id":`, ",,,", "PJSIP/@,,", uint64(7))
	f.Add(uint8(5), uint16(1), "HANGUP", "PJSIP/801-0<", "1795652954.5", "1795652954.4", `{"dialstatus":"\`, "", "&&&", uint64(1<<40+3))
	f.Fuzz(func(t *testing.T, ci uint8, pos uint16, et, ch, uid, lid, extra, peer, data string, shuffle uint64) {
		base := cases[int(ci)%len(cases)]
		rows := append([]celbridge.CELRow(nil), base...)
		k := int(pos) % len(rows)
		r := rows[k]
		r.EventType, r.ChanName, r.UniqueID, r.LinkedID, r.Extra, r.Peer, r.AppData = et, ch, uid, lid, extra, peer, data
		if shuffle&1 != 0 {
			r.AppName = "Dial"
		}
		rows[k] = r
		if shuffle&2 != 0 {
			rows = append(rows, r) // duplicate at the end
		}
		for s := shuffle >> 2; s != 0; s >>= 12 { // swaps driven by the seed
			i, j := int(s&63)%len(rows), int((s>>6)&63)%len(rows)
			rows[i], rows[j] = rows[j], rows[i]
		}
		cfg := DefaultConfig()
		cfg.Groups = []Group{{Number: "600", Members: []string{"801", "802", "803"}}}
		cfg.InternalCalls = shuffle&4 != 0
		cfg.SendTransfers = true
		m := New(cfg)
		var evs []celbridge.Event
		for i := range rows {
			e, _ := m.feed(&rows[i])
			evs = append(evs, e...)
		}
		evs = append(evs, m.Expire(rows[len(rows)-1].EventTime)...)
		evs = append(evs, m.Flush()...)
		if m.OpenCalls() != 0 {
			t.Fatalf("%d calls open after Flush", m.OpenCalls())
		}
		if len(m.parties) != 0 || len(m.partyNames) != 0 || len(m.bursts) != 0 {
			t.Fatalf("after Flush: %d parties, %d party names, %d held bursts left in the indexes", len(m.parties), len(m.partyNames), len(m.bursts))
		}
		// Per call: receivedTheCall first and once, nothing after hangupTheCall.
		hung, recv := map[string]bool{}, map[string]bool{}
		for _, e := range evs {
			if hung[e.LinkedID] {
				t.Fatalf("event %s of call %s after its hangupTheCall", e.RequestType, e.LinkedID)
			}
			switch e.RequestType {
			case celbridge.Received:
				if recv[e.LinkedID] {
					t.Fatalf("second receivedTheCall for %s", e.LinkedID)
				}
				recv[e.LinkedID] = true
			case celbridge.Hangup:
				hung[e.LinkedID] = true
			}
			if !recv[e.LinkedID] {
				t.Fatalf("%s before receivedTheCall for %s", e.RequestType, e.LinkedID)
			}
		}
		for _, e := range evs {
			switch e.RequestType {
			case celbridge.Received, celbridge.Answered, celbridge.Transferred, celbridge.Hangup:
			default:
				t.Fatalf("bad request type %q", e.RequestType)
			}
			if e.Billsec < 0 || e.Seq < 0 || e.LinkedID == "" {
				t.Fatalf("bad event %+v", e)
			}
		}
	})
}
