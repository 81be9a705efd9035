package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/amitest"
	"github.com/celbridge/celbridge/internal/clitest"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/internal/testdb"
	"github.com/celbridge/celbridge/mapper"
	"github.com/celbridge/celbridge/store"
)

const (
	apiKey    = "clinic-web"
	apiSecret = "9f2c4e1a7b3d5f60-api-secret"
)

// php returns the php-cli binary: the CRM's side of the API test is PHP, an implementation
// of the signature that shares nothing with ours. CI installs it (scripts/test-mariadb.sh).
func php(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("php")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("php not found; scripts/test-mariadb.sh installs php-cli")
		}
		t.Skip("php not installed (apt-get install php-cli, or run scripts/test-mariadb.sh)")
	}
	return p
}

// crmCall is one answer to a request the PHP client made.
type crmCall struct {
	HTTP        int    `json:"http"`
	SignatureOK bool   `json:"signature_ok"`
	Body        string `json:"body"`
	answer      map[string]any
}

// crmRequest makes a request as the CRM does: testdata/binotel_client.php signs params with
// secret and posts them with key.
func crmRequest(t *testing.T, phpBin, url, key, secret string, params any) crmCall {
	t.Helper()
	js, _ := json.Marshal(params)
	out, err := exec.Command(phpBin, "testdata/binotel_client.php", url, key, secret, string(js)).Output()
	if err != nil {
		t.Fatalf("php client: %v", err)
	}
	var c crmCall
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("php client printed %q: %v", out, err)
	}
	json.Unmarshal([]byte(c.Body), &c.answer)
	return c
}

// freePort returns a loopback address nothing listens on (the API needs its port in
// api.public_url before it starts).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// scenarioDetails is what a call's details must say, from freepbx-cel-2/scenarios.md.
type scenarioDetails struct {
	name, id                                  string
	callType, external, internal, group, disp string
	billsec                                   string
	employee, src                             string
	recording                                 string // file under monitor/, "" when not recorded
	isNew                                     string
}

var cel2Details = []scenarioDetails{
	{"P1", "17961771260", "0", "0671234567", "801", "", "TRANSFER", "11", "Іван Петренко", "0671234567", "", "1"},
	{"P2", "17961771483", "0", "0503456789", "801", "", "ANSWER", "12", "Іван Петренко", "0503456789", "", "1"},
	{"P3", "17961771846", "0", "0937654321", "802", "", "ANSWER", "5", "Olena Kovalenko", "0937654321", "", "1"},
	{"F1", "17961772068", "0", "0689012345", "801", "", "ANSWER", "10", "Іван Петренко", "0689012345", "", "1"},
	{"F2", "179617722717", "0", "0662345678", "801", "", "ANSWER", "8", "Іван Петренко", "0662345678", "", "1"},
	{"F3", "179617724123", "0", "0731122334", "801", "", "VM-SUCCESS", "0", "", "0731122334", "", "1"},
	{"W1", "179617727332", "0", "0955566778", "803", "", "ANSWER", "8", "Taras Shevchuk", "0955566778", "", "1"},
	{"G1", "179617729137", "0", "0981231231", "802", "600", "ANSWER", "9", "Olena Kovalenko", "0981231231", "", "1"},
	{"G2", "179617730841", "0", "0509876012", "600", "", "VM-SUCCESS", "0", "", "0509876012", "", "1"},
	{"R1", "179617733945", "0", "0674443322", "801", "", "ANSWER", "6", "Іван Петренко", "0674443322",
		"2026/12/02/in-0443334000-0674443322-20261202-020859-1796177339.45.wav", "1"},
	{"R2", "179617735147", "1", "0939876543", "802", "", "ANSWER", "8", "Olena Kovalenko", "802",
		"2026/12/02/out-0939876543-802-20261202-020911-1796177351.47.wav", "1"},
	// The click-to-call dials P1's caller again: not a new number.
	{"C1", "179617736549", "1", "0671234567", "801", "", "ANSWER", "7", "Іван Петренко", "801", "", "0"},
	{"C2", "179617738153", "1", "0502223344", "801", "", "CANCEL", "0", "", "801", "", "1"},
	{"K1", "179617740157", "0", "0636667788", "801", "9000", "ANSWER", "17", "Іван Петренко", "0636667788", "", "1"},
	{"X1", "179617742561", "0", "0997778899", "801", "", "TRANSFER", "22", "Іван Петренко", "0997778899", "", "1"},
	{"X1 consult", "179617743263", "1", "0961112233", "801", "", "ANSWER", "4", "Іван Петренко", "801", "", "1"},
}

// TestRun_API: `run` with the API on processes the real calls of freepbx-cel-2 through
// MariaDB; then the CRM (PHP, its own signature code) asks for call details, recordings and
// a click-to-call, and tries what an attacker would.
func TestRun_API(t *testing.T) {
	phpBin := php(t)
	fake := amitest.Start(t, filepath.Join(testdb.ModuleRoot(t), "ami/testdata/originate_answered.json"))
	monitor := filepath.Join(testdb.ModuleRoot(t), "testdata/freepbx-cel-2/monitor")
	apiAddr := freePort(t)
	base := "http://" + apiAddr
	extra := fmt.Sprintf(`
[pbx]
recordings_dir = %q
[[pbx.groups]]
number = "600"
members = ["801", "802", "803"]
[api]
listen = %q
key = %q
secret = %q
public_url = %q
allow = ["127.0.0.1", "::1"]
bad_signatures = 50
[ami]
address = %q
username = "celbridge"
secret = "secret-redacted"
[[employees]]
extension = "801"
name = "Іван Петренко"
email = "ivan@clinic.example"
[[employees]]
extension = "802"
name = "Olena Kovalenko"
[[employees]]
extension = "803"
name = "Taras Shevchuk"
`, monitor, apiAddr, apiKey, apiSecret, base, fake.Addr())
	s := newSite(t, opts{extra: extra})
	d := startRun(t, s.config)

	// The capture's rows, moved to ten minutes ago (the call log is kept for store.retention
	// from the calls' own times), inserted while run polls.
	staging := testdb.New(t)
	staging.LoadSQL(t, "testdata/freepbx-cel-2/cel.sql")
	rows := realRows(t, staging)
	shift := clock.Now().Add(-10 * time.Minute).Truncate(time.Second).Sub(rows[0].EventTime)
	for i := range rows {
		rows[i].EventTime = rows[i].EventTime.Add(shift)
	}
	cfg, err := ReadConfigFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	events := mapper.MapAll(cfg.MapperConfig(), rows)
	started := map[string]time.Time{} // startTime: the call's first CEL row, before any IVR or ringing
	for _, r := range rows {
		id := celbridge.DigitsOnly(r.LinkedID)
		if st, ok := started[id]; !ok || r.EventTime.Before(st) {
			started[id] = r.EventTime
		}
	}
	s.db.Insert(t, rows...)
	// Hundreds of rows in polls of 50, a push each: give a loaded CI machine a minute.
	for deadline := time.Now().Add(time.Minute); len(s.crm.received()) < len(events); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d pushes delivered after a minute:\n%s", len(s.crm.received()), len(events), d.log)
		}
	}
	if n := len(s.crm.received()); n != len(events) {
		t.Fatalf("%d pushes, want %d", n, len(events))
	}

	t.Run("CallDetails", func(t *testing.T) {
		ids := []any{}
		for _, sc := range cel2Details {
			n, _ := strconv.ParseInt(sc.id, 10, 64)
			ids = append(ids, n) // numbers, as the guide's example sends them
		}
		ids = append(ids, "999999999")
		r := crmRequest(t, phpBin, base+"/stats/call-details.json", apiKey, apiSecret, map[string]any{"generalCallID": ids})
		if r.HTTP != 200 || !r.SignatureOK || r.answer["status"] != "success" {
			t.Fatalf("call details: %+v", r)
		}
		details, _ := r.answer["callDetails"].(map[string]any)
		if len(details) != len(cel2Details) {
			t.Errorf("%d calls in the answer, want %d (the unknown id left out)", len(details), len(cel2Details))
		}
		for _, sc := range cel2Details {
			c, _ := details[sc.id].(map[string]any)
			if c == nil {
				t.Errorf("%s (%s): missing", sc.name, sc.id)
				continue
			}
			want := map[string]any{"companyID": "3041", "generalCallID": sc.id, "callID": sc.id,
				"callType": sc.callType, "externalNumber": sc.external, "internalNumber": sc.internal,
				"internalAdditionalData": sc.group, "disposition": sc.disp, "billsec": sc.billsec,
				"employeeName": sc.employee, "srcNumber": sc.src, "isNewCall": sc.isNew,
				"startTime": strconv.FormatInt(started[sc.id].Unix(), 10)}
			if sc.callType == "0" { // trunkNumber: the DID without FreePBX's trunk caller IDs
				want["didNumber"], want["did"], want["trunkNumber"] = "0443334000", "0443334000", "0443334000"
			}
			for k, v := range want {
				if c[k] != v {
					t.Errorf("%s %s = %#v, want %#v", sc.name, k, c[k], v)
				}
			}
			if w, ok := c["waitsec"].(float64); !ok || w < 0 || w > 60 {
				t.Errorf("%s waitsec = %#v", sc.name, c["waitsec"])
			}
		}
		if c, _ := details["179617733945"].(map[string]any); c != nil && c["waitsec"] != 3.0 {
			t.Errorf("R1 waitsec = %v, want 3 (801 answered after 3 s)", c["waitsec"])
		}
		if c, _ := details["179617729137"].(map[string]any); c != nil {
			if dst, _ := json.Marshal(c["dstNumbers"]); string(dst) != `["600","801","802","803"]` {
				t.Errorf("G1 dstNumbers = %s, want the group, then the phones it rang in order", dst)
			}
		}
	})

	t.Run("Recordings", func(t *testing.T) {
		for _, sc := range cel2Details {
			r := crmRequest(t, phpBin, base+"/stats/call-record.json", apiKey, apiSecret, map[string]any{"callID": sc.id})
			if sc.recording == "" {
				if r.HTTP != 404 || r.answer["status"] != "error" || r.answer["code"] != 150.0 {
					t.Errorf("%s has no recording: got %+v", sc.name, r)
				}
				continue
			}
			link, _ := r.answer["url"].(string)
			if r.HTTP != 200 || !r.SignatureOK || !strings.HasPrefix(link, base+"/recordings/"+sc.id+"?") {
				t.Fatalf("%s: %+v", sc.name, r)
			}
			want, err := os.ReadFile(filepath.Join(monitor, sc.recording))
			if err != nil {
				t.Fatal(err)
			}
			code, h, body := httpGet(t, link, "")
			if code != 200 || !bytes.Equal(body, want) || h.Get("Content-Type") != "audio/wav" {
				t.Errorf("%s: GET %d %s, %d bytes, want %d bytes of %s", sc.name, code, h.Get("Content-Type"), len(body), len(want), sc.recording)
			}
			if code, _, body := httpGet(t, link, "bytes=0-3"); code != 206 || string(body) != "RIFF" {
				t.Errorf("%s: Range request: %d %q", sc.name, code, body)
			}
			// Altered links stop working.
			q := link[strings.Index(link, "?"):]
			for name, bad := range map[string]string{
				"other call": base + "/recordings/179617733945" + q,
				"expires":    strings.Replace(link, "expires=", "expires=1", 1),
				"sig":        link[:len(link)-4] + "0000",
			} {
				if bad == link {
					continue
				}
				if code, _, _ := httpGet(t, bad, ""); code != 403 {
					t.Errorf("%s: link with altered %s: %d, want 403", sc.name, name, code)
				}
			}
		}
		// Expiry: a link signed with the daemon's own key (read from its store), valid a
		// moment ago, is refused as expired; the same key with a future expiry works, so the
		// refusal is the expiry and not the signature.
		db, err := store.OpenReadOnly(t.Context(), s.store)
		if err != nil {
			t.Fatal(err)
		}
		key, _, err := db.Meta(t.Context(), "recording_link_key")
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		link := func(exp int64) string {
			m := hmac.New(sha256.New, []byte(key))
			fmt.Fprintf(m, "recording\n%s\n%d", "179617735147", exp)
			return fmt.Sprintf("%s/recordings/179617735147?expires=%d&sig=%s", base, exp, hex.EncodeToString(m.Sum(nil)))
		}
		if code, _, _ := httpGet(t, link(clock.Now().Add(time.Minute).Unix()), ""); code != 200 {
			t.Fatalf("a link made with the store's key: %d", code)
		}
		if code, _, body := httpGet(t, link(clock.Now().Add(-time.Second).Unix()), ""); code != 410 {
			t.Errorf("an expired link: %d %s, want 410", code, body)
		}
	})

	t.Run("ExtToPhone", func(t *testing.T) {
		for _, bad := range []map[string]any{
			{"ext_number": "801\r\nAction: Command\r\nCommand: core restart now", "phone_number": "0671234567"},
			{"ext_number": "801", "phone_number": "0671234567\r\nChannel: PJSIP/805"},
			{"ext_number": "804", "phone_number": "0671234567"}, // not an employee
			{"ext_number": "801", "phone_number": "0671234567@from-internal"},
		} {
			r := crmRequest(t, phpBin, base+"/calls/ext-to-phone.json", apiKey, apiSecret, bad)
			if r.HTTP != 400 || r.answer["code"] != 140.0 {
				t.Errorf("%q: %+v, want 400 code 140", bad, r)
			}
		}
		r := crmRequest(t, phpBin, base+"/api/4.0/calls/ext-to-phone.json", apiKey, apiSecret,
			map[string]any{"ext_number": "801", "phone_number": "0671234567"})
		if r.HTTP != 200 || !r.SignatureOK || r.answer["status"] != "success" {
			t.Fatalf("ext-to-phone: %+v", r)
		}
		got := fake.Received()
		var originates []string
		for _, m := range got {
			if m.Get("Action") == "Originate" {
				originates = append(originates, fmt.Sprintf("%s|%s|%s|%s|%s|%s", m.Get("Channel"), m.Get("Exten"),
					m.Get("Context"), m.Get("Priority"), m.Get("Async"), m.Get("CallerID")))
			}
		}
		want := "Local/801@originate-skipvm|0671234567|from-internal|1|true|UCP <801>"
		if len(originates) != 1 || originates[0] != want {
			t.Errorf("the AMI saw Originates %q, want exactly one %q", originates, want)
		}
		clitest.WaitFor(t, 20*time.Second, "the click-to-call outcome in the log", func() bool {
			return strings.Contains(d.log.String(), "click-to-call answered by the employee")
		})
	})

	t.Run("Refused", func(t *testing.T) {
		params := map[string]any{"generalCallID": []any{179617733945}}
		for name, r := range map[string]crmCall{
			"wrong key":    crmRequest(t, phpBin, base+"/stats/call-details.json", "someone", apiSecret, params),
			"wrong secret": crmRequest(t, phpBin, base+"/stats/call-details.json", apiKey, "guessed-secret-123", params),
		} {
			if r.HTTP != 401 || r.answer["status"] != "error" || r.answer["code"] != 121.0 || strings.Contains(r.Body, apiSecret) {
				t.Errorf("%s: %+v, want 401 code 121", name, r)
			}
		}
		big := []byte(`{"generalCallID":[1],"pad":"` + strings.Repeat("x", 70<<10) + `"}`)
		resp, err := http.Post(base+"/stats/call-details.json", "application/json", bytes.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized body: %d, want 413", resp.StatusCode)
		}
		for _, p := range []string{"/recordings/..%2f..%2f..%2fetc%2fpasswd?expires=9999999999&sig=" + strings.Repeat("0", 64),
			"/recordings/%2fetc%2fpasswd", "/recordings/../../etc/passwd", "/stats/../../etc/passwd"} {
			if code, _, body := httpGet(t, base+p, ""); code < 400 || bytes.Contains(body, []byte("root:")) {
				t.Errorf("GET %s: %d %q", p, code, body)
			}
		}
		log := d.log.String()
		for _, reason := range []string{"reason=bad_key", "reason=bad_signature", "reason=too_large", "reason=bad_link", "reason=bad_extension", "reason=bad_number"} {
			if !strings.Contains(log, reason) {
				t.Errorf("no log line with %s", reason)
			}
		}
		for _, secret := range []string{apiSecret, "secret-redacted"} {
			if strings.Contains(log, secret) {
				t.Errorf("the log shows a secret (%s)", secret)
			}
		}
		d.waitMetric(t, `celbridge_api_requests_total{method="call-details",result="bad_signature"}`, atLeast(1))
	})
}

func httpGet(t *testing.T, url, rng string) (int, http.Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

// TestCheck_API: check reports the API's configuration, the recordings directory and the
// AMI login (against the captured login of a real Asterisk), with a fix for each failure.
func TestCheck_API(t *testing.T) {
	monitor := filepath.Join(testdb.ModuleRoot(t), "testdata/freepbx-cel-2/monitor")
	conf := func(dir, amiAddr, amiSecret string) string {
		return fmt.Sprintf("[pbx]\nrecordings_dir = %q\n[api]\nlisten = \"127.0.0.1:0\"\nkey = %q\nsecret = %q\npublic_url = \"https://pbx.example:8443\"\n[ami]\naddress = %q\nusername = \"celbridge\"\nsecret = %q\n",
			dir, apiKey, apiSecret, amiAddr, amiSecret)
	}
	t.Run("OK", func(t *testing.T) {
		fake := amitest.Start(t, filepath.Join(testdb.ModuleRoot(t), "ami/testdata/login_ok.json"))
		s := newSite(t, opts{extra: conf(monitor, fake.Addr(), "secret-redacted")})
		s.nowCall(t, 1, time.UTC)
		r := s.do(t, "check")
		if r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.stdout)
		}
		wantLine(t, r.stdout, "✓", "API on 127.0.0.1:0", "key and secret set")
		wantLine(t, r.stdout, "✓", "recordings directory "+monitor+" is readable")
		wantLine(t, r.stdout, "✓", "AMI login at "+fake.Addr(), "works")
		wantLine(t, r.stdout, "!", "without TLS", "api.tls_cert")
		if strings.Contains(r.stdout+r.stderr, apiSecret) || strings.Contains(r.stdout+r.stderr, "secret-redacted") {
			t.Errorf("check shows a secret:\n%s", r.stdout)
		}
	})
	t.Run("Problems", func(t *testing.T) {
		fake := amitest.Start(t, filepath.Join(testdb.ModuleRoot(t), "ami/testdata/login_bad_secret.json"))
		s := newSite(t, opts{extra: conf(filepath.Join(t.TempDir(), "nope"), fake.Addr(), "wrong-secret")})
		s.nowCall(t, 1, time.UTC)
		r := s.do(t, "check")
		if r.code == 0 {
			t.Fatalf("exit 0 with a bad AMI secret and no recordings directory\n%s", r.stdout)
		}
		wantLine(t, r.stdout, "✗", "recordings directory", "not readable", "pbx.recordings_dir")
		wantLine(t, r.stdout, "✗", "refused the login of celbridge", "ami.secret")
		if strings.Contains(r.stdout, "wrong-secret") {
			t.Errorf("check shows the AMI secret:\n%s", r.stdout)
		}
	})
}
