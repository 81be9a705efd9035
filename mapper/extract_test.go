package mapper

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
)

var extract = flag.String("extract", "", "directory of the freepbx-cel capture (cel.csv, scenarios.json): "+
	"rewrite testdata/<case>/input.json from it")

// goldenScenarios names the golden case directories made from each scenario of the capture.
// Several cases may share a scenario's rows (different config.json).
var goldenScenarios = map[string][]string{
	"1":  {"s01-in-answered-customer-hangup", "s01-in-answered-rewrite-linkedid"},
	"1b": {"s01b-in-answered-agent-hangup"},
	"2":  {"s02-in-caller-cancel"},
	"2b": {"s02b-in-ring-timeout"},
	"3":  {"s03-in-busy"},
	"3b": {"s03b-in-declined-603"},
	"4":  {"s04-group-answered", "s04-group-answered-no-config"},
	"4b": {"s04b-group-no-answer"},
	"5a": {"s05a-queue-answered"},
	"5b": {"s05b-queue-abandoned"},
	"6":  {"s06-blind-transfer"},
	"6b": {"s06b-blind-transfer-external"},
	"7":  {"s07-attended-transfer-feature"},
	"7b": {"s07b-attended-transfer-phone"},
	"8":  {"s08-out-answered"},
	"9a": {"s09a-out-no-answer"},
	"9b": {"s09b-out-busy"},
	"10": {"s10-internal-not-sent", "s10-internal-sent"},
	"11": {"s11-in-forward-mobile"},
	"12": {"s12-two-overlapping-groups"},
}

// TestExtractScenarios writes each scenario's rows (by CEL id range) as input.json. It runs
// only with -extract DIR; the golden tests never read outside testdata.
func TestExtractScenarios(t *testing.T) {
	if *extract == "" {
		t.Skip("-extract not set")
	}
	rows := readCELCSV(t, filepath.Join(*extract, "cel.csv"))
	b, err := os.ReadFile(filepath.Join(*extract, "scenarios.json"))
	if err != nil {
		t.Fatal(err)
	}
	var scen []struct {
		Num  string `json:"num"`
		From int64  `json:"cel_id_from"`
		To   int64  `json:"cel_id_to"`
	}
	if err := json.Unmarshal(b, &scen); err != nil {
		t.Fatal(err)
	}
	for _, s := range scen {
		var sel []celbridge.CELRow
		for _, r := range rows {
			if r.ID >= s.From && r.ID <= s.To {
				sel = append(sel, r)
			}
		}
		out, err := json.MarshalIndent(sel, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range goldenScenarios[s.Num] {
			dir := filepath.Join("testdata", name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "input.json"), append(out, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// readCELCSV reads the capture's cel.csv (header row, FreePBX columns, eventtime in UTC).
func readCELCSV(t testing.TB, path string) []celbridge.CELRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	get := func(r []string, name string) string {
		if i, ok := col[name]; ok && i < len(r) {
			return r[i]
		}
		return ""
	}
	var rows []celbridge.CELRow
	for _, r := range recs[1:] {
		id, err := strconv.ParseInt(get(r, "id"), 10, 64)
		if err != nil {
			t.Fatalf("bad id %q", get(r, "id"))
		}
		et, _ := time.ParseInLocation(time.DateTime, get(r, "eventtime"), time.UTC)
		rows = append(rows, celbridge.CELRow{
			ID: id, EventType: get(r, "eventtype"), EventTime: et,
			CIDName: get(r, "cid_name"), CIDNum: get(r, "cid_num"), CIDANI: get(r, "cid_ani"),
			CIDRDNIS: get(r, "cid_rdnis"), CIDDNID: get(r, "cid_dnid"), Exten: get(r, "exten"),
			Context: get(r, "context"), ChanName: get(r, "channame"), AppName: get(r, "appname"),
			AppData: get(r, "appdata"), AccountCode: get(r, "accountcode"), UniqueID: get(r, "uniqueid"),
			LinkedID: get(r, "linkedid"), Peer: get(r, "peer"), UserDefType: get(r, "userdeftype"),
			Extra: get(r, "extra"),
		})
	}
	return rows
}
