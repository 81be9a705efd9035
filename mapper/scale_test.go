package mapper

// Rows for the tests and benchmarks about size: thousands of calls, one call with thousands
// of channels, a conference of a hundred channels. These rows are generated, not stored as
// cases: each is one small shape repeated n times, n being what is tested, and a file would
// only spell the shape out n times (wideN = 5,000 channels is some 60,000 rows). Every flow
// whose point is its requests is a golden case, testdata/*/input.json.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
)

// scaleHangup and scaleBridge are the extra of a HANGUP and of a BRIDGE_ENTER/EXIT of bridge id.
const scaleHangup = `{"hangupcause":16,"hangupsource":"","dialstatus":""}`

func scaleBridge(id string) string {
	return `{"bridge_id":"` + id + `","bridge_technology":"simple_bridge"}`
}

// gen appends r with the next id, sec seconds after t0.
func gen(rows []celbridge.CELRow, sec int, r celbridge.CELRow) []celbridge.CELRow {
	r.ID = int64(len(rows) + 1)
	r.EventTime = t0.Add(time.Duration(sec) * time.Second)
	return append(rows, r)
}

// TestPartyNamesMemory: thousands of unanswered incoming calls (IVR hang-ups) leave
// nothing in the indexes, closed by LINKEDID_END (every other call) or by Expire.
func TestPartyNamesMemory(t *testing.T) {
	rows := ivrHangupRows(2000)
	// As the poller drives it: Expire every second of CEL time, then an hour later.
	m := New(DefaultConfig())
	now := rows[0].EventTime
	for _, r := range rows {
		for ; now.Before(r.EventTime); now = now.Add(time.Second) {
			m.Expire(now.Add(time.Second))
		}
		m.Feed(r)
	}
	m.Expire(now.Add(time.Hour))
	m.Flush()
	if len(m.partyNames) != 0 || len(m.parties) != 0 || len(m.calls) != 0 {
		t.Errorf("left: partyNames %d parties %d calls %d", len(m.partyNames), len(m.parties), len(m.calls))
	}
}

// ivrHangupRows: n incoming calls, call i at second i on its own trunk channel, hung up at
// once; every other call without LINKEDID_END.
func ivrHangupRows(n int) []celbridge.CELRow {
	var rows []celbridge.CELRow
	for i := range n {
		c := celbridge.CELRow{ChanName: fmt.Sprintf("PJSIP/kyivstar-%08x", i), UniqueID: fmt.Sprintf("%d.%d", 1795650000+i, i)}
		c.LinkedID = c.UniqueID
		start := c
		start.EventType, start.Exten, start.Context, start.CIDNum = "CHAN_START", "0443334000", "from-pstn", "0670000001"
		rows = gen(rows, i, start)
		hangup := c
		hangup.EventType, hangup.Extra = "HANGUP", scaleHangup
		rows = gen(rows, i, hangup)
		c.EventType = "CHAN_END"
		rows = gen(rows, i, c)
		if i%2 == 0 {
			c.EventType = "LINKEDID_END"
			rows = gen(rows, i, c)
		}
	}
	return rows
}

// wideCallRows is one incoming call that brings n phones into one conference bridge, one
// after the other, then ends: a linkedid with n channels (issue 15.8: 5,000 froze polling).
func wideCallRows(n int) []celbridge.CELRow {
	trunk := celbridge.CELRow{ChanName: "PJSIP/kyivstar-00000001", UniqueID: "1.1", LinkedID: "1.1"}
	in := trunk
	in.EventType, in.Exten, in.Context, in.CIDNum = "CHAN_START", "0443334000", "from-pstn", "0670000001"
	rows := gen(nil, 0, in)
	for _, et := range []string{"ANSWER", "BRIDGE_ENTER"} {
		r := trunk
		r.EventType = et
		if et == "BRIDGE_ENTER" {
			r.Extra = scaleBridge("conf")
		}
		rows = gen(rows, 0, r)
	}
	phone := func(i int, et string) celbridge.CELRow {
		return celbridge.CELRow{EventType: et, ChanName: "PJSIP/" + strconv.Itoa(1000+i%9000) + "-" + strconv.Itoa(i),
			UniqueID: "1." + strconv.Itoa(i+2), LinkedID: "1.1"}
	}
	for i := range n {
		r := phone(i, "CHAN_START")
		r.Exten, r.Context = "s", "from-internal"
		rows = gen(rows, i/100, r)
		rows = gen(rows, i/100, phone(i, "ANSWER"))
		r = phone(i, "BRIDGE_ENTER")
		r.Extra, r.Peer = scaleBridge("conf"), trunk.ChanName
		rows = gen(rows, i/100, r)
	}
	for i := range n {
		r := phone(i, "BRIDGE_EXIT")
		r.Extra = scaleBridge("conf")
		rows = gen(rows, n/100+1, r)
		r = phone(i, "HANGUP")
		r.Extra = scaleHangup
		rows = gen(rows, n/100+1, r)
		rows = gen(rows, n/100+1, phone(i, "CHAN_END"))
	}
	for _, et := range []string{"HANGUP", "CHAN_END", "LINKEDID_END"} {
		r := trunk
		r.EventType = et
		if et == "HANGUP" {
			r.Extra = scaleHangup
		}
		rows = gen(rows, n/100+2, r)
	}
	return rows
}

// confRows: n outgoing calls from 800..(800+n-1) to customers, each answered, then every
// customer and agent joins one (non-basic, ConfBridge) bridge; each BRIDGE_ENTER's peer lists
// the channels already there, as Asterisk logs it.
func confRows(n int) []celbridge.CELRow {
	var rows []celbridge.CELRow
	legs := func(k int) (ph, tr celbridge.CELRow) {
		lid := strconv.Itoa(100+k) + ".1"
		ph = celbridge.CELRow{ChanName: "PJSIP/" + strconv.Itoa(800+k) + "-" + strconv.FormatInt(int64(0x1000+2*k), 16), UniqueID: lid, LinkedID: lid}
		tr = celbridge.CELRow{ChanName: "PJSIP/kyivstar-" + strconv.FormatInt(int64(0x1001+2*k), 16), UniqueID: strconv.Itoa(100+k) + ".2", LinkedID: lid}
		return ph, tr
	}
	for k := range n {
		ph, tr := legs(k)
		own := scaleBridge("b" + ph.LinkedID)
		a, b := ph, tr
		a.EventType, a.Exten, a.Context = "CHAN_START", "067000"+strconv.Itoa(1000+k), "from-internal"
		b.EventType, b.Exten, b.Context = "CHAN_START", "s", "from-pstn"
		rows = gen(gen(rows, 0, a), 0, b)
		tr.EventType = "ANSWER"
		rows = gen(rows, 1, tr)
		tr.EventType, tr.Extra = "BRIDGE_ENTER", own
		ph.EventType, ph.Extra, ph.Peer = "BRIDGE_ENTER", own, tr.ChanName
		rows = gen(gen(rows, 1, tr), 1, ph)
	}
	var inConf []string
	for k := range n {
		ph, tr := legs(k)
		for _, c := range []celbridge.CELRow{tr, ph} {
			c.EventType, c.Extra = "BRIDGE_EXIT", scaleBridge("b"+ph.LinkedID)
			rows = gen(rows, 5, c)
			c.EventType, c.Extra, c.Peer = "BRIDGE_ENTER", scaleBridge("conf"), strings.Join(inConf, ",")
			rows = gen(rows, 5, c)
			inConf = append(inConf, c.ChanName)
		}
	}
	return rows
}

// BenchmarkFeed_Conference: 50 answered outgoing calls whose customers and agents all join
// one conference bridge; each BRIDGE_ENTER's peer names every channel already there, so
// joinedParty looks up many parties per row.
func BenchmarkFeed_Conference(b *testing.B) {
	rows := confRows(50)
	b.ReportAllocs()
	for b.Loop() {
		m := New(DefaultConfig())
		for _, r := range rows {
			m.Feed(r)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
}
