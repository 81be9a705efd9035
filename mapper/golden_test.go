package mapper

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
	InternalCalls bool   `json:"internal_calls"`
	SendTransfers bool   `json:"send_transfers"`
	CallID        string `json:"call_id"`
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
	cfg.SendTransfers = cc.SendTransfers
	if cc.CallID != "" {
		cfg.CallID = cc.CallID
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
			got := formLines(mapFed(t, cfg, rows))
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

// mapFed is MapAll that also fails the test on a warning: golden inputs are clean CEL.
func mapFed(t *testing.T, cfg Config, rows []celbridge.CELRow) []celbridge.Event {
	t.Helper()
	m := New(cfg)
	var evs []celbridge.Event
	for _, r := range rows {
		e, warn := m.Feed(r)
		if warn != nil {
			t.Errorf("row %d: unexpected warning: %v", r.ID, warn)
		}
		evs = append(evs, e...)
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
