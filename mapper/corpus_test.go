package mapper

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
)

// sharedTestdata is the project's shared fixture directory; the corpus test skips without it.
const sharedTestdata = "../../shared/testdata"

// TestForeignCorpora feeds every CEL sequence of the Asterisk testsuite and Wazo fixtures
// through the mapper. Their shapes differ from FreePBX's table (regex values, placeholders,
// JSON objects in extra, Asterisk 11 record types); the only requirement is no panic and no
// call left open after Flush.
func TestForeignCorpora(t *testing.T) {
	for _, sub := range []string{"asterisk-testsuite-cel", "wazo-call-logd-cel"} {
		files, _ := filepath.Glob(filepath.Join(sharedTestdata, sub, "*.json"))
		if len(files) == 0 {
			t.Skipf("%s not found", sub)
		}
		for _, f := range files {
			rows, err := foreignRows(f, sub == "wazo-call-logd-cel")
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			m := New(DefaultConfig())
			n := 0
			for i := range rows {
				e, _ := m.feed(&rows[i]) // no recover: a panic fails the test
				n += len(e)
			}
			n += len(m.Flush())
			if m.OpenCalls() != 0 {
				t.Errorf("%s: calls open after Flush", f)
			}
			t.Logf("%s: %d rows, %d events", filepath.Base(f), len(rows), n)
		}
	}
}

// foreignRows maps a fixture's events to CELRow leniently: unknown keys are dropped, objects
// in extra are re-encoded as JSON, numbers become text. Wazo rows are sorted by id, else by
// eventtime, as its README says.
func foreignRows(path string, sortRows bool) ([]celbridge.CELRow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	rows := make([]celbridge.CELRow, 0, len(doc.Events))
	for i, ev := range doc.Events {
		s := func(k string) string { return text(ev[k]) }
		r := celbridge.CELRow{
			ID: int64(i + 1), EventType: s("eventtype"), CIDName: s("cid_name"), CIDNum: s("cid_num"),
			CIDANI: s("cid_ani"), CIDRDNIS: s("cid_rdnis"), CIDDNID: s("cid_dnid"), Exten: s("exten"),
			Context: s("context"), ChanName: s("channame"), AppName: s("appname"), AppData: s("appdata"),
			AccountCode: s("accountcode"), UniqueID: s("uniqueid"), LinkedID: s("linkedid"), Peer: s("peer"),
			UserDefType: s("userdeftype"), Extra: s("extra"),
		}
		if r.Extra == "" {
			r.Extra = s("eventextra")
		}
		if id, err := strconv.ParseInt(s("id"), 10, 64); err == nil {
			r.ID = id
		}
		r.EventTime = parseLenientTime(s("eventtime"))
		rows = append(rows, r)
	}
	if sortRows {
		sort.SliceStable(rows, func(i, j int) bool {
			if !rows[i].EventTime.Equal(rows[j].EventTime) {
				return rows[i].EventTime.Before(rows[j].EventTime)
			}
			return rows[i].ID < rows[j].ID
		})
		for i := range rows {
			rows[i].ID = int64(i + 1)
		}
	}
	return rows, nil
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

func parseLenientTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07", "2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999", time.DateTime} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
