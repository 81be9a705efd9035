package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/internal/testdb"
	"github.com/celbridge/celbridge/mapper"
)

// realRows are the 374 rows of the FreePBX capture, read back through the real source.
func realRows(t *testing.T, db *testdb.DB) []celbridge.CELRow {
	t.Helper()
	src, err := freepbx.OpenCEL(t.Context(), db.ReaderDSN, "cel", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rows, err := src.ReadAfter(t.Context(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// expected is what the CRM must get for rows: the mapper's events (checked against the
// golden files in mapper/testdata) encoded as the CRM receives them, grouped per call.
func expected(t *testing.T, rows []celbridge.CELRow) map[string][]string {
	t.Helper()
	cfg := DefaultConfig()
	cfg.MySQL.DSN, cfg.CRM.URL = "u:p@tcp(h:1)/d", "http://x"
	byCall := map[string][]string{}
	for _, e := range mapper.MapAll(cfg.MapperConfig(), rows) {
		byCall[e.GeneralCallID] = append(byCall[e.GeneralCallID], celbridge.EncodeForm(e.Fields("3041")))
	}
	return byCall
}

// perCall groups received bodies by generalCallID, keeping arrival order.
func perCall(bodies []string) map[string][]string {
	m := map[string][]string{}
	for _, b := range bodies {
		for _, kv := range strings.Split(b, "&") {
			if id, ok := strings.CutPrefix(kv, "generalCallID="); ok {
				m[id] = append(m[id], b)
			}
		}
	}
	return m
}

func loadCapture(t *testing.T, db *testdb.DB) {
	t.Helper()
	db.LoadSQL(t, filepath.Join(testdb.ModuleRoot(t), "testdata", "freepbx-cel", "cel.sql"))
}

func TestOnce_RealCEL(t *testing.T) {
	b := newSite(t, opts{})
	// The first start on an empty store begins at the newest row: here, an empty table.
	if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
		t.Fatalf("first once: exit %d\n%s", code, stderr)
	}
	loadCapture(t, b.db)
	code, _, stderr := b.run(t, t.Context(), "once")
	if code != 0 {
		t.Fatalf("once: exit %d\n%s", code, stderr)
	}
	want := expected(t, realRows(t, b.db))
	got := perCall(b.crm.received())
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("CRM requests differ from the mapper's (-want +got):\n%s", d)
	}
	// Scenario 1, spelled out: the receptionist's screen pop.
	if s := got["17956529280"]; len(s) == 0 || s[0] != "didNumber=0443334000&externalNumber=0670219424&internalNumber=801&generalCallID=17956529280&callType=0&companyID=3041&requestType=receivedTheCall" {
		t.Errorf("scenario 1 receivedTheCall = %q", s)
	}
	n := len(b.crm.received())
	if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
		t.Fatalf("second once: exit %d\n%s", code, stderr)
	}
	if m := len(b.crm.received()); m != n {
		t.Errorf("second once sent %d more requests, want none", m-n)
	}
}

func TestOnce_FirstStartSkipsHistory(t *testing.T) {
	b := newSite(t, opts{})
	loadCapture(t, b.db)
	if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
		t.Fatalf("once: exit %d\n%s", code, stderr)
	}
	if got := b.crm.received(); len(got) != 0 {
		t.Errorf("first start pushed %d historic requests, want 0", len(got))
	}
}

// TestOnce_SplitAcrossPolls inserts the capture in slices, one `once` (a new process state:
// fresh mapper, store reopened) per slice, so calls are cut between received and hangup.
func TestOnce_SplitAcrossPolls(t *testing.T) {
	b := newSite(t, opts{})
	if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
		t.Fatalf("first once: exit %d\n%s", code, stderr)
	}
	staging := testdb.New(t)
	loadCapture(t, staging)
	rows := realRows(t, staging)
	for _, cut := range [][2]int{{0, 5}, {5, 60}, {60, 61}, {61, 200}, {200, len(rows)}} {
		b.db.Insert(t, rows[cut[0]:cut[1]]...)
		if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
			t.Fatalf("once after rows %v: exit %d\n%s", cut, code, stderr)
		}
	}
	if d := cmp.Diff(expected(t, rows), perCall(b.crm.received())); d != "" {
		t.Errorf("split polls changed the requests (-want +got):\n%s", d)
	}
	keys := map[string]bool{}
	for _, k := range b.crm.keys() {
		if keys[k] {
			t.Errorf("request %s sent twice", k)
		}
		keys[k] = true
	}
}

// TestRun_CRMRecovers runs the daemon while the CRM answers 503 to the first requests.
func TestRun_CRMRecovers(t *testing.T) {
	b := newSite(t, opts{})
	if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
		t.Fatalf("first once: exit %d\n%s", code, stderr)
	}
	b.crm.failFirst(3)
	loadCapture(t, b.db)
	want := expected(t, realRows(t, b.db))
	total := 0
	for _, s := range want {
		total += len(s)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	var stderr string
	go func() {
		var code int
		code, _, stderr = b.run(t, ctx, "run")
		done <- code
	}()
	deadline := time.After(60 * time.Second)
	for len(b.crm.received()) < total {
		select {
		case <-deadline:
			cancel()
			<-done
			t.Fatalf("only %d of %d requests arrived; log:\n%s", len(b.crm.received()), total, stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("run exit %d after SIGTERM-like stop, want 0\n%s", code, stderr)
	}
	if d := cmp.Diff(want, perCall(b.crm.received())); d != "" {
		t.Errorf("after 503s the requests differ (-want +got):\n%s", d)
	}
	if !strings.Contains(stderr, "503") {
		t.Errorf("the 503s were not logged:\n%s", stderr)
	}
}

func TestOnce_CRMRefuses(t *testing.T) {
	b := newSite(t, opts{})
	b.run(t, t.Context(), "once")
	loadCapture(t, b.db)
	b.crm.setStatus(http.StatusBadRequest)
	code, _, stderr := b.run(t, t.Context(), "once")
	if code != exitFailure {
		t.Errorf("once with a CRM answering 400: exit %d, want %d\n%s", code, exitFailure, stderr)
	}
	if !strings.Contains(stderr, "400") {
		t.Errorf("the 400 was not reported:\n%s", stderr)
	}
}

func TestBadInput(t *testing.T) {
	t.Run("WrongPassword", func(t *testing.T) {
		b := newSite(t, opts{})
		b.cfg.MySQL.DSN = strings.Replace(b.cfg.MySQL.DSN, b.db.Password, "not-the-password", 1)
		code, _, stderr := b.run(t, t.Context(), "once")
		if code != exitUsage { // a config error: systemd's RestartPreventExitStatus=2 stops the loop
			t.Errorf("exit %d, want %d", code, exitUsage)
		}
		for _, w := range []string{b.db.User, "GRANT SELECT"} {
			if !strings.Contains(stderr, w) {
				t.Errorf("message does not mention %q:\n%s", w, stderr)
			}
		}
		if strings.Contains(stderr, "not-the-password") {
			t.Errorf("message leaks the password:\n%s", stderr)
		}
	})
	t.Run("ConfigTypo", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "c.toml")
		os.WriteFile(path, []byte("[mysql]\ndsn = \"u:secret@tcp(127.0.0.1:1)/asteriskcdrdb\"\n[crm]\nurl = \"http://127.0.0.1:1/\"\n[pbx]\ninternal_call = true\n"), 0o600)
		var out, errw bytes.Buffer
		code := Main(t.Context(), []string{"once", "-config", path}, &out, &errw)
		stderr := errw.String()
		if code != exitUsage || !strings.Contains(stderr, `unknown key "pbx.internal_call"`) {
			t.Errorf("exit %d, want %d with the key named:\n%s", code, exitUsage, stderr)
		}
	})
	t.Run("MissingURL", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "c.toml")
		os.WriteFile(path, []byte("[mysql]\ndsn = \"u:secret@tcp(127.0.0.1:1)/asteriskcdrdb\"\n"), 0o600)
		var out, errw bytes.Buffer
		code := Main(t.Context(), []string{"once", "-config", path}, &out, &errw)
		if code != exitUsage || !strings.Contains(errw.String(), "crm.url: is empty") {
			t.Errorf("exit %d, want %d naming crm.url:\n%s", code, exitUsage, errw.String())
		}
	})
	t.Run("GarbageRow", func(t *testing.T) {
		b := newSite(t, opts{})
		b.run(t, t.Context(), "once")
		staging := testdb.New(t)
		loadCapture(t, staging)
		rows := realRows(t, staging)[:13] // scenario 1
		garbage := celbridge.CELRow{ID: 7, EventType: "BRIDGE_ENTER", UniqueID: rows[0].UniqueID, LinkedID: rows[0].LinkedID,
			ChanName: "PJSIP/kyivstar-00000000", Extra: `{"bridge_id":`, EventTime: rows[0].EventTime}
		for i := range rows {
			if rows[i].ID >= 7 {
				rows[i].ID++ // make room for the garbage row inside the call
			}
		}
		b.db.Insert(t, rows...)
		b.db.Insert(t, garbage)
		b.db.Exec(t, "INSERT INTO cel (id, eventtype, eventtime, cid_name, cid_num, cid_ani, cid_rdnis, cid_dnid, exten, context, channame, appname, appdata, amaflags, accountcode, uniqueid, linkedid, peer, userdeftype, extra) VALUES (100, '', '0000-00-00 00:00:00', '', '', '', '', '', '', '', '', '', '', 0, '', '', '', '', '', 'not json')")
		code, _, stderr := b.run(t, t.Context(), "once")
		if code != 0 {
			t.Fatalf("once: exit %d\n%s", code, stderr)
		}
		if !strings.Contains(stderr, "cel_id=7") {
			t.Errorf("the malformed row is not logged with its id:\n%s", stderr)
		}
		got := perCall(b.crm.received())["17956529280"]
		if len(got) != 3 || !strings.HasSuffix(got[2], "requestType=hangupTheCall") {
			t.Errorf("scenario 1 with a garbage row in it: got %q, want received, answered, hangup", got)
		}
	})
}

func TestBackfill_DryRun(t *testing.T) {
	b := newSite(t, opts{})
	loadCapture(t, b.db)
	code, stdout, stderr := b.run(t, t.Context(), "backfill", "-from-id", "1", "-dry-run")
	if code != 0 {
		t.Fatalf("backfill -dry-run: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	want := `{"didNumber":"0443334000","externalNumber":"0670219424","internalNumber":"801","generalCallID":"17956529280","callType":"0","companyID":"3041","requestType":"receivedTheCall"}`
	if lines[0] != want {
		t.Errorf("first line = %s\nwant %s", lines[0], want)
	}
	n := 0
	for _, s := range expected(t, realRows(t, b.db)) {
		n += len(s)
	}
	if len(lines) != n {
		t.Errorf("dry run printed %d requests, want %d", len(lines), n)
	}
	if got := b.crm.received(); len(got) != 0 {
		t.Errorf("dry run sent %d requests", len(got))
	}
}

func TestBackfill_Sends(t *testing.T) {
	b := newSite(t, opts{})
	loadCapture(t, b.db)
	want := expected(t, realRows(t, b.db))
	n := 0
	for _, calls := range want {
		n += len(calls)
	}
	for i := 0; i < 2; i++ { // the second run must not send anything again, and say so
		code, _, stderr := b.run(t, t.Context(), "backfill", "-from", "2026-11-26", "-to", "2026-11-26")
		if code != 0 {
			t.Fatalf("backfill: exit %d\n%s", code, stderr)
		}
		say := fmt.Sprintf("; %d new, 0 already queued or delivered", n)
		if i == 1 {
			say = fmt.Sprintf("; 0 new, %d already queued or delivered by an earlier run (not sent again)", n)
		}
		if !strings.Contains(stderr, say) {
			t.Errorf("run %d: the summary does not say %q:\n%s", i+1, say, stderr)
		}
	}
	if d := cmp.Diff(want, perCall(b.crm.received())); d != "" {
		t.Errorf("backfill requests (-want +got):\n%s", d)
	}
}

// TestBackfill_CallInProgress: a backfill that reaches the end of the table while a call is
// still going must not close that call with what it knows so far; the daemon finishes it.
// (Flushing there sent hangupTheCall NOANSWER before answeredTheCall, and the real hangup was
// then dropped as a repeat.)
func TestBackfill_CallInProgress(t *testing.T) {
	b := newSite(t, opts{})
	if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 { // the daemon's cursor: 0
		t.Fatalf("first once: exit %d\n%s", code, stderr)
	}
	staging := testdb.New(t)
	loadCapture(t, staging)
	call := realRows(t, staging)[:13] // scenario 1; rows 1-5 reach 801's BRIDGE_ENTER
	b.db.Insert(t, call[:5]...)
	if code, _, stderr := b.run(t, t.Context(), "backfill", "-from-id", "1"); code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	if got := b.crm.received(); len(got) != 1 || !strings.HasSuffix(got[0], "requestType=receivedTheCall") {
		t.Fatalf("backfill of a call in progress sent %q, want only its receivedTheCall", got)
	}
	b.db.Insert(t, call[5:]...)
	if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
		t.Fatalf("once: exit %d\n%s", code, stderr)
	}
	if d := cmp.Diff(expected(t, call)["17956529280"], perCall(b.crm.received())["17956529280"]); d != "" {
		t.Errorf("call finished by the daemon after the backfill (-want +got):\n%s", d)
	}
}

// TestOnce_TransferIntoOlderCall replays mapper/testdata/s07c (a caller transferred to 803,
// who was on an older internal call, so the caller's later rows carry that call's linkedid)
// through MariaDB in three polls, each a new process: cut after the caller's first row under
// the other linkedid and after its own call's LINKEDID_END. The CRM must get the golden
// requests, the hang-up once, with the whole talk time.
func TestOnce_TransferIntoOlderCall(t *testing.T) {
	b := newSite(t, opts{})
	if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
		t.Fatalf("first once: exit %d\n%s", code, stderr)
	}
	rows := goldenRows(t, "s07c-transfer-into-older-call")
	moved, ended := -1, -1
	for i, r := range rows {
		if moved < 0 && r.UniqueID == "1795653134.45" && r.LinkedID != "1795653134.45" {
			moved = i
		}
		if r.EventType == "LINKEDID_END" && r.LinkedID == "1795653134.45" {
			ended = i
		}
	}
	if moved < 0 || ended < 0 {
		t.Fatal("s07c no longer has the caller's rows under the other linkedid")
	}
	for _, cut := range [][2]int{{0, moved + 1}, {moved + 1, ended + 1}, {ended + 1, len(rows)}} {
		b.db.Insert(t, rows[cut[0]:cut[1]]...)
		if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
			t.Fatalf("once after rows %v: exit %d\n%s", cut, code, stderr)
		}
	}
	want := []string{
		"didNumber=0443334000&externalNumber=0502223344&internalNumber=801&generalCallID=179565313445&callType=0&companyID=3041&requestType=receivedTheCall",
		"didNumber=0443334000&externalNumber=0502223344&internalNumber=801&generalCallID=179565313445&callType=0&companyID=3041&requestType=answeredTheCall",
		"generalCallID=179565313445&billsec=30&disposition=TRANSFER&companyID=3041&requestType=hangupTheCall",
	}
	if d := cmp.Diff(want, b.crm.received()); d != "" {
		t.Errorf("CRM requests (-want +got):\n%s", d)
	}
}

// goldenRows reads the CEL rows of a mapper golden case.
func goldenRows(t *testing.T, name string) []celbridge.CELRow {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "mapper", "testdata", name, "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []celbridge.CELRow
	if err := json.Unmarshal(raw, &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestBackfill_TransferIntoOlderCall: a backfill whose range ends while a caller transferred
// into an older call still talks must follow the caller's rows past the range, although they
// carry the linkedid of a call that started before the range.
func TestBackfill_TransferIntoOlderCall(t *testing.T) {
	b := newSite(t, opts{})
	rows := goldenRows(t, "s07c-transfer-into-older-call")
	b.db.Insert(t, rows...)
	code, stdout, stderr := b.run(t, t.Context(), "backfill", "-from-id", "243", "-to-id", "258", "-dry-run")
	if code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	last := lines[len(lines)-1]
	if len(lines) != 3 || !strings.Contains(last, `"requestType":"hangupTheCall"`) ||
		!strings.Contains(last, `"billsec":"30"`) || !strings.Contains(last, `"disposition":"TRANSFER"`) {
		t.Errorf("backfill -dry-run printed\n%s\nwant received, answered and hangupTheCall billsec 30 TRANSFER", stdout)
	}
}

// TestOnce_CapturesInSmallPolls: every call of both shared FreePBX captures, read by the
// daemon in many small polls (rows inserted in chunks of 1 to 25, one `once` after each, a
// new process state each time), with rows dated three days back (a replica that lags, or a
// PBX clock that is off), gets the same requests as one backfill of the same rows, each sent
// once. The ring group of both captures (600: 801-803) is configured, so held ring bursts are
// cut by polls too.
func TestOnce_CapturesInSmallPolls(t *testing.T) {
	const groups = "[[pbx.groups]]\nnumber = \"600\"\nmembers = [\"801\", \"802\", \"803\"]\n"
	for _, capture := range []string{"freepbx-cel", "freepbx-cel-2"} {
		t.Run(capture, func(t *testing.T) {
			staging := testdb.New(t)
			staging.LoadSQL(t, filepath.Join("testdata", capture, "cel.sql"))
			rows := realRows(t, staging)
			for i := range rows {
				rows[i].EventTime = rows[i].EventTime.Add(-72 * time.Hour)
			}

			ref := newSite(t, opts{extra: groups})
			ref.db.Insert(t, rows...)
			if code, _, stderr := ref.run(t, t.Context(), "backfill", "-from-id", "1"); code != 0 {
				t.Fatalf("backfill: exit %d\n%s", code, stderr)
			}
			want := perCall(ref.crm.received())
			if len(want) < 10 {
				t.Fatalf("backfill sent %d calls, want every call of the capture", len(want))
			}

			b := newSite(t, opts{extra: groups})
			if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
				t.Fatalf("first once: exit %d\n%s", code, stderr)
			}
			rng := rand.New(rand.NewPCG(uint64(len(rows)), 10))
			polls := 0
			for lo := 0; lo < len(rows); polls++ {
				hi := min(len(rows), lo+1+rng.IntN(25))
				b.db.Insert(t, rows[lo:hi]...)
				if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
					t.Fatalf("once after rows %d..%d: exit %d\n%s", rows[lo].ID, rows[hi-1].ID, code, stderr)
				}
				lo = hi
			}
			if d := cmp.Diff(want, perCall(b.crm.received())); d != "" {
				t.Errorf("%d small polls sent other requests than one backfill (-backfill +polls):\n%s", polls, d)
			}
			seen := map[string]bool{}
			for _, k := range b.crm.keys() {
				if seen[k] {
					t.Errorf("request %s sent twice", k)
				}
				seen[k] = true
			}
		})
	}
}
