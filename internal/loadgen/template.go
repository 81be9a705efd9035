package loadgen

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/celbridge/celbridge"
)

// scenarioFiles are copies of mapper/testdata/*/input.json: real FreePBX CEL captures, one
// or two calls each, deduplicated (cases that differ only in the mapper's config share an
// input; one copy is kept).
//
//go:embed scenarios/*.json
var scenarioFiles embed.FS

// token kinds: the identifiers that must be fresh in every clone of a call.
const (
	tokUniqueID = iota // <epoch>.<counter>
	tokChanSuffix
	tokBridge
)

// tokenRE finds the identifiers in a CEL text field: bridge ids (uuid), uniqueids
// (<10-digit epoch>.<counter>) and channel-name suffixes (-%08x, before ";1", a quote or the
// end). The uuid alternative comes first so its groups are never read as a channel suffix.
var tokenRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b1[0-9]{9}\.[0-9]+\b|-[0-9a-f]{8}\b`)

// segment is a piece of a templated text field: a literal, or a token to substitute.
type segment struct {
	lit string
	tok int // index into scenario.tokens, or -1
}

// field is a text field of a template row: either constant (no token) or segments.
type field struct {
	constant string
	segs     []segment
}

// rowTmpl is one template row: its fields, and its offset from the call's first row.
type rowTmpl struct {
	eventType string
	offset    time.Duration // eventtime - first row's eventtime
	text      [textFields]field
}

// textFields are the CELRow string fields other than EventType, in the order textPtrs
// lists them.
const textFields = 16

func textPtrs(r *celbridge.CELRow) [textFields]*string {
	return [textFields]*string{&r.CIDName, &r.CIDNum, &r.CIDANI, &r.CIDRDNIS, &r.CIDDNID,
		&r.Exten, &r.Context, &r.ChanName, &r.AppName, &r.AppData, &r.AccountCode,
		&r.UniqueID, &r.LinkedID, &r.Peer, &r.UserDefType, &r.Extra}
}

// token is one distinct identifier of a scenario.
type token struct {
	kind  int
	value string
	epoch int64 // uniqueid's epoch minus the scenario's first eventtime (seconds)
}

// scenario is a real call sequence, ready to be cloned.
type scenario struct {
	name   string
	source []celbridge.CELRow // the rows as captured
	rows   []rowTmpl
	tokens []token
	// bursts are the runs of consecutive rows with the same eventtime: Asterisk writes them
	// within microseconds, so a clone inserts each burst at once (other calls interleave
	// between bursts, not inside one).
	bursts [][2]int // [from, to) row indexes
	// linkedIDs are the token indexes of the scenario's linkedids, in order of appearance.
	linkedIDs []int
}

func loadScenarios() ([]*scenario, error) {
	names, err := scenarioFiles.ReadDir("scenarios")
	if err != nil {
		return nil, err
	}
	var out []*scenario
	for _, n := range names {
		b, err := scenarioFiles.ReadFile(path.Join("scenarios", n.Name()))
		if err != nil {
			return nil, err
		}
		var rows []celbridge.CELRow
		if err := json.Unmarshal(b, &rows); err != nil {
			return nil, fmt.Errorf("loadgen: scenario %s: %w", n.Name(), err)
		}
		s, err := newScenario(strings.TrimSuffix(n.Name(), ".json"), rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func newScenario(name string, rows []celbridge.CELRow) (*scenario, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("loadgen: scenario %s has no rows", name)
	}
	s := &scenario{name: name, source: rows}
	first := rows[0].EventTime
	index := map[string]int{}
	tokenOf := func(v string) int {
		if i, ok := index[v]; ok {
			return i
		}
		t := token{value: v}
		switch {
		case len(v) == 36:
			t.kind = tokBridge
		case v[0] == '-':
			t.kind = tokChanSuffix
		default:
			t.kind = tokUniqueID
			e, _ := strconv.ParseInt(v[:strings.IndexByte(v, '.')], 10, 64)
			t.epoch = e - first.Unix()
		}
		index[v] = len(s.tokens)
		s.tokens = append(s.tokens, t)
		return index[v]
	}
	for i := range rows {
		r := &rows[i]
		if r.EventTime.Before(first) {
			return nil, fmt.Errorf("loadgen: scenario %s: row %d is older than the first row", name, r.ID)
		}
		rt := rowTmpl{eventType: r.EventType, offset: r.EventTime.Sub(first)}
		for j, p := range textPtrs(r) {
			v := *p
			locs := tokenRE.FindAllStringIndex(v, -1)
			if locs == nil {
				rt.text[j].constant = v
				continue
			}
			var segs []segment
			at := 0
			for _, l := range locs {
				if l[0] > at {
					segs = append(segs, segment{lit: v[at:l[0]], tok: -1})
				}
				segs = append(segs, segment{tok: tokenOf(v[l[0]:l[1]])})
				at = l[1]
			}
			if at < len(v) {
				segs = append(segs, segment{lit: v[at:], tok: -1})
			}
			rt.text[j].segs = segs
		}
		s.rows = append(s.rows, rt)
		if i == 0 || !r.EventTime.Equal(rows[i-1].EventTime) {
			s.bursts = append(s.bursts, [2]int{i, i + 1})
		} else {
			s.bursts[len(s.bursts)-1][1] = i + 1
		}
		if r.LinkedID != "" {
			if i, ok := index[r.LinkedID]; ok && !slices.Contains(s.linkedIDs, i) {
				s.linkedIDs = append(s.linkedIDs, i)
			}
		}
	}
	return s, nil
}
