package mapper

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/celbridge/celbridge"
)

var update = flag.Bool("update", false, "rewrite testdata/*/want.txt from the mapper's output")

// caseConfig is the optional config.json of a golden case.
type caseConfig struct {
	Groups []struct {
		Number  string   `json:"number"`
		Members []string `json:"members"`
	} `json:"groups"`
	Rewrites []struct {
		Match   string `json:"match"`
		Replace string `json:"replace"`
	} `json:"rewrites"`
	OutboundPrefixes []string `json:"outbound_prefixes"`
	InternalCalls    bool     `json:"internal_calls"`
	SendTransfers    bool     `json:"send_transfers"`
	CallID           string   `json:"call_id"`
	// ExtensionPattern and InboundContexts name the phones and trunk contexts of a PBX that
	// is not a stock FreePBX (Wazo captures, Asterisk's test channels).
	ExtensionPattern string   `json:"extension_pattern"`
	InboundContexts  []string `json:"inbound_contexts"`
}

func loadCaseConfig(t *testing.T, dir string) Config {
	t.Helper()
	cfg := DefaultConfig()
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if os.IsNotExist(err) {
		return cfg
	}
	if err != nil {
		t.Fatal(err)
	}
	var cc caseConfig
	if err := json.Unmarshal(b, &cc); err != nil {
		t.Fatalf("%s/config.json: %v", dir, err)
	}
	for _, g := range cc.Groups {
		cfg.Groups = append(cfg.Groups, Group{Number: g.Number, Members: g.Members})
	}
	for _, r := range cc.Rewrites {
		cfg.Rewrites = append(cfg.Rewrites, Rewrite{Match: regexp.MustCompile(r.Match), Replace: r.Replace})
	}
	cfg.InternalCalls = cc.InternalCalls
	for _, p := range cc.OutboundPrefixes {
		op, err := ParseOutboundPrefix(p)
		if err != nil {
			t.Fatalf("%s/config.json: outbound_prefixes: %v", dir, err)
		}
		cfg.OutboundPrefixes = append(cfg.OutboundPrefixes, op)
	}
	cfg.SendTransfers = cc.SendTransfers
	if cc.CallID != "" {
		cfg.CallID = cc.CallID
	}
	if cc.ExtensionPattern != "" {
		cfg.ExtensionPattern = regexp.MustCompile(cc.ExtensionPattern)
	}
	if cc.InboundContexts != nil {
		cfg.InboundContexts = cc.InboundContexts
	}
	return cfg
}

func loadRows(t testing.TB, path string) []celbridge.CELRow {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []celbridge.CELRow
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// formLines renders events as the form bodies the CRM receives, one per line.
func formLines(evs []celbridge.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(celbridge.EncodeForm(e.Fields("3041")))
		b.WriteByte('\n')
	}
	return b.String()
}

// goldenLines is formLines with " @<id>" after each request: the CEL id of the row that
// decided it. A request is sent as soon as that row is read, so want.txt pins when each
// request leaves, not only what it says.
func goldenLines(evs []celbridge.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%s @%d\n", celbridge.EncodeForm(e.Fields("3041")), e.CELID)
	}
	return b.String()
}

// TestGolden maps testdata/<case>/input.json (real CEL rows) and compares the requests with
// testdata/<case>/want.txt, which was checked by hand against the scenario's expected CRM
// outcome (see notes.md in a case where the reasoning is not obvious).
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/input.json")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg := loadCaseConfig(t, dir)
			rows := loadRows(t, in)
			got := goldenLines(mapFed(t, cfg, rows))
			wantPath := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(wantPath, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("%v (run go test ./mapper -run TestGolden -update, then check want.txt by hand)", err)
			}
			if got != string(want) {
				t.Errorf("requests differ from %s (-want +got):\n%s", wantPath, lineDiff(string(want), got))
			}
		})
	}
}

// mapFed is MapAll that also fails the test on a warning: golden inputs are clean CEL. An
// input without any LINKEDID_END row (Asterisk's test_cel.c does not log it) is closed the way
// the poller closes such calls: Expire once EndGrace has passed after the last row.
func mapFed(t *testing.T, cfg Config, rows []celbridge.CELRow) []celbridge.Event {
	t.Helper()
	m := New(cfg)
	var evs []celbridge.Event
	hasEnd := false
	for _, r := range rows {
		e, warn := m.Feed(r)
		if warn != nil {
			t.Errorf("row %d: unexpected warning: %v", r.ID, warn)
		}
		evs = append(evs, e...)
		hasEnd = hasEnd || r.EventType == "LINKEDID_END"
	}
	if !hasEnd && len(rows) > 0 {
		evs = append(evs, m.Expire(rows[len(rows)-1].EventTime.Add(m.cfg.EndGrace))...)
	}
	if n := m.OpenCalls(); n != 0 {
		t.Errorf("%d calls still open after the last row (LINKEDID_END missed)", n)
	}
	return append(evs, m.Flush()...)
}

// lineDiff is a small line diff: lines only in want get "-", lines only in got get "+".
func lineDiff(want, got string) string {
	w := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
	g := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	// Longest common subsequence table.
	lcs := make([][]int, len(w)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(g)+1)
	}
	for i := len(w) - 1; i >= 0; i-- {
		for j := len(g) - 1; j >= 0; j-- {
			if w[i] == g[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < len(w) || j < len(g) {
		switch {
		case i < len(w) && j < len(g) && w[i] == g[j]:
			fmt.Fprintf(&b, "  %s\n", w[i])
			i, j = i+1, j+1
		case j < len(g) && (i == len(w) || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&b, "+ %s\n", g[j])
			j++
		default:
			fmt.Fprintf(&b, "- %s\n", w[i])
			i++
		}
	}
	return b.String()
}

// TestGoldenStreamed feeds every golden case the way the poller drives the mapper: one row
// at a time with Expire(row's eventtime) after each, then Expire past EndGrace and Flush.
// The events must equal MapAll's (a call spanning many polls maps like a finished one), and
// the cases on the default configuration interleaved row by row (ids renumbered, each case
// under its own linkedids) must give each call the same requests.
func TestGoldenStreamed(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*/input.json")
	type caseRows struct {
		cfg  Config
		rows []celbridge.CELRow
	}
	var all []caseRows
	for _, in := range dirs {
		dir := filepath.Dir(in)
		cfg := loadCaseConfig(t, dir)
		rows := loadRows(t, in)
		want := mapFed(t, cfg, rows)
		m := New(cfg)
		var got []celbridge.Event
		for _, r := range rows {
			e, _ := m.Feed(r)
			got = append(got, e...)
			got = append(got, m.Expire(r.EventTime)...)
		}
		got = append(got, m.Expire(rows[len(rows)-1].EventTime.Add(cfg.EndGrace))...)
		got = append(got, m.Flush()...)
		if a, b := eventsText(want), eventsText(got); a != b {
			t.Errorf("%s: streamed events differ from MapAll (-MapAll +streamed):\n%s", dir, lineDiff(a, b))
		}
		all = append(all, caseRows{cfg, rows})
	}
	// Interleave cases that share a configuration (the default one) row by row.
	var mixed []celbridge.CELRow
	var pos []int
	want := map[string]string{}
	def := DefaultConfig()
	for k, cr := range all {
		if cr.cfg.ExtensionPattern.String() != def.ExtensionPattern.String() || len(cr.cfg.Groups) > 0 || cr.cfg.InternalCalls ||
			cr.cfg.SendTransfers || len(cr.cfg.Rewrites) > 0 || cr.cfg.CallID != def.CallID || len(cr.cfg.InboundContexts) != len(def.InboundContexts) {
			continue
		}
		var rows []celbridge.CELRow
		for i, r := range cr.rows {
			r = ownRow(t, r, k)
			r.EventTime = t0 // one clock: Expire is not used here
			rows = append(rows, r)
			pos = append(pos, i) // the row's rank within its case
		}
		for _, e := range MapAll(def, rows) {
			want[e.LinkedID] += eventText(e, false)
		}
		mixed = append(mixed, rows...)
	}
	// Round-robin by case: stable sort on each row's rank within its case.
	idx := make([]int, len(mixed))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return pos[idx[a]] < pos[idx[b]] })
	m := New(def)
	got := map[string]string{}
	for n, i := range idx {
		r := mixed[i]
		r.ID = int64(n + 1)
		e, _ := m.Feed(r)
		for _, ev := range e {
			got[ev.LinkedID] += eventText(ev, false)
		}
	}
	for _, ev := range m.Flush() {
		got[ev.LinkedID] += eventText(ev, false)
	}
	if len(want) < 10 {
		t.Fatalf("only %d calls interleaved", len(want))
	}
	for lid, w := range want {
		if got[lid] != w {
			t.Errorf("call %s interleaved (-alone +interleaved):\n%s", lid, lineDiff(w, got[lid]))
		}
	}
}

var (
	// chanCounterRE is the counter that ends a channel name (PJSIP/801-0000001b, Local/…-00000003;2).
	chanCounterRE = regexp.MustCompile(`-([0-9a-f]{8})\b`)
	// extraIDRE is a bridge id or a uniqueid named in extra (bridge_id, pickup_channel_uniqueid…).
	extraIDRE = regexp.MustCompile(`("(?:bridge_id|bridge1_id|bridge2_id|[a-z0-9_]*_uniqueid)":")([^"]*)"`)
)

// ownRow gives row r of case k what a PBX gives every call of its own: uniqueids, linkedids,
// channel names and bridges that no other call uses at the same time. The cases are separate
// captures (the h-* ones all call the trunk PJSIP/kyivstar-00000001 and bridge b1), so
// interleaved as they are they would share channels and bridges. Ids get k as a 3-digit
// suffix; a channel's counter gets k in its top three hex digits.
func ownRow(t *testing.T, r celbridge.CELRow, k int) celbridge.CELRow {
	t.Helper()
	suffix := fmt.Sprintf("%03d", k)
	r.UniqueID += suffix
	r.LinkedID += suffix
	counter := func(s string) string {
		return chanCounterRE.ReplaceAllStringFunc(s, func(m string) string {
			if m[1:4] != "000" {
				t.Fatalf("row %d: channel counter %s above 000fffff: ownRow cannot make it unique", r.ID, m)
			}
			return fmt.Sprintf("-%03x%s", k, m[4:])
		})
	}
	r.ChanName, r.Peer = counter(r.ChanName), counter(r.Peer)
	r.Extra = extraIDRE.ReplaceAllString(counter(r.Extra), "${1}${2}"+suffix+`"`)
	return r
}

func eventsText(evs []celbridge.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(eventText(e, true))
	}
	return b.String()
}

// eventText is an event as one line: its form and, withIDs, the deciding rows and its Rule
// (which names row ids).
func eventText(e celbridge.Event, withIDs bool) string {
	s := celbridge.EncodeForm(e.Fields(""))
	if withIDs {
		s += fmt.Sprintf(" celid=%d first=%d rule=%s", e.CELID, e.FirstCELID, e.Rule)
	}
	return s + "\n"
}
