package callapi

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/celbridge/celbridge/ami"
	"github.com/celbridge/celbridge/internal/amitest"
)

const (
	testKey    = "clinic-key"
	testSecret = "s3cr3t-value-never-logged"
)

// memLog is an in-memory call log (the store's own is tested in store and end to end).
type memLog map[string]Call

func (m memLog) Calls(_ context.Context, ids []string) ([]Call, error) {
	var out []Call
	for _, id := range ids {
		if c, ok := m[id]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

type bundle struct {
	srv  *Server
	ts   *httptest.Server
	logs *syncBuf
	now  *fakeClock
	dir  string
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var t0 = time.Date(2026, 12, 2, 2, 8, 59, 0, time.UTC)

func setup(t *testing.T) *bundle {
	t.Helper()
	dir := t.TempDir()
	rec := filepath.Join(dir, "monitor")
	os.MkdirAll(filepath.Join(rec, "2026/12/02"), 0o755)
	os.WriteFile(filepath.Join(rec, "2026/12/02/in-1.wav"), []byte("RIFF....WAVEfmt recording one"), 0o644)
	os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("outside"), 0o644)
	os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(rec, "2026/12/02/link.wav"))
	calls := memLog{
		"1796177339045": {GeneralCallID: "1796177339045", LinkedID: "1796177339.45", StartedAt: t0,
			AnsweredAt: t0.Add(3 * time.Second), EndedAt: t0.Add(9 * time.Second), DIDNumber: "0443334000",
			ExternalNumber: "0674443322", ReceivedNumber: "600", AnsweredBy: "801", DstNumbers: []string{"600", "801"},
			Billsec: 6, Disposition: "ANSWER", Recording: "2026/12/02/in-1.wav", Trunk: "kyivstar", IsNew: true},
		"2": {GeneralCallID: "2", StartedAt: t0, Recording: "../secret.txt"},
		"3": {GeneralCallID: "3", StartedAt: t0, Recording: filepath.Join(dir, "secret.txt")},
		"4": {GeneralCallID: "4", StartedAt: t0, Recording: "2026/12/02/link.wav"},
		"5": {GeneralCallID: "5", StartedAt: t0, Recording: filepath.Join(rec, "2026/12/02/in-1.wav")},
	}
	b := &bundle{logs: &syncBuf{}, now: &fakeClock{t: t0.Add(time.Hour)}, dir: rec}
	b.srv = &Server{
		Key: testKey, Secret: testSecret, Calls: calls, CompanyID: "3041",
		Extension:     func(e string) bool { return e == "801" || e == "802" },
		Employees:     map[string]Employee{"801": {"Іван Петренко", "ivan@example.com"}},
		DIDNames:      map[string]string{"0443334000": "Clinic main line"},
		TrunkNumbers:  map[string]string{"kyivstar": "0443334000"},
		RecordingsDir: rec, LinkKey: []byte("link-key"), Now: b.now.Now,
		Logger:  slog.New(slog.NewTextHandler(b.logs, nil)),
		MaxBody: 4096,
	}
	b.ts = httptest.NewServer(b.srv.Handler())
	t.Cleanup(b.ts.Close)
	b.srv.PublicURL = b.ts.URL
	return b
}

// signed builds a request body signed as the CRM signs it.
func signed(t *testing.T, key, secret string, params map[string]any) []byte {
	t.Helper()
	js, _ := json.Marshal(params)
	v, _ := decode(js)
	o := v.(object)
	enc, _ := encodePHP(o.ksorted())
	sum := md5.Sum(append([]byte(secret), enc...))
	o = append(o, member{"key", key}, member{"signature", hex.EncodeToString(sum[:])})
	out, _ := encodePHP(o)
	return out
}

func post(t *testing.T, b *bundle, path string, body []byte) (int, map[string]any, []byte) {
	t.Helper()
	resp, err := http.Post(b.ts.URL+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("answer %q is not JSON: %v", raw, err)
	}
	return resp.StatusCode, m, raw
}

// checkAnswer verifies an answer's signature as the CRM would.
func checkAnswer(t *testing.T, raw []byte) {
	t.Helper()
	v, err := decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	o := v.(object)
	sig, _ := o.get("signature")
	enc, _ := encodePHP(o.ksorted("signature"))
	sum := md5.Sum(append([]byte(testSecret), enc...))
	if sig != hex.EncodeToString(sum[:]) {
		t.Fatalf("answer signature %v does not check out over %s", sig, enc)
	}
}

func TestCallDetails(t *testing.T) {
	b := setup(t)
	for _, prefix := range []string{"", "/api/4.0"} {
		body := signed(t, testKey, testSecret, map[string]any{"generalCallID": []any{1796177339045, "999"}})
		status, m, raw := post(t, b, prefix+"/stats/call-details.json", body)
		if status != 200 || m["status"] != "success" {
			t.Fatalf("%d %s", status, raw)
		}
		checkAnswer(t, raw)
		d := m["callDetails"].(map[string]any)
		if len(d) != 1 {
			t.Fatalf("callDetails %v: want only the known call", d)
		}
		c := d["1796177339045"].(map[string]any)
		want := map[string]any{"companyID": "3041", "generalCallID": "1796177339045", "callID": "1796177339045",
			"startTime": "1796177339", "callType": "0", "internalNumber": "801", "internalAdditionalData": "600",
			"externalNumber": "0674443322", "srcNumber": "0674443322", "waitsec": 3.0, "billsec": "6",
			"disposition": "ANSWER", "isNewCall": "1", "didNumber": "0443334000", "employeeName": "Іван Петренко",
			"employeeEmail": "ivan@example.com", "didName": "Clinic main line", "trunkNumber": "0443334000"}
		for k, v := range want {
			if c[k] != v {
				t.Errorf("%s = %#v, want %#v", k, c[k], v)
			}
		}
		if !strings.Contains(string(raw), `\u0406\u0432\u0430\u043d`) {
			t.Errorf("the name is not written as PHP writes it: %s", raw)
		}
	}
	// Nothing known: callDetails is PHP's empty array.
	_, _, raw := post(t, b, "/stats/call-details.json", signed(t, testKey, testSecret, map[string]any{"generalCallID": []any{"1"}}))
	if !strings.Contains(string(raw), `"callDetails":[]`) {
		t.Fatalf("%s", raw)
	}
	checkAnswer(t, raw)
}

func TestRefused(t *testing.T) {
	good := map[string]any{"generalCallID": []any{1796177339045}}
	tampered := signed(t, testKey, testSecret, good)
	tampered = bytes.Replace(tampered, []byte("1796177339045"), []byte("1796177339046"), 1)
	for _, tc := range []struct {
		name, path, method string
		body               []byte
		status, code       int
	}{
		{"NoKey", "/stats/call-details.json", "POST", []byte(`{"generalCallID":[1]}`), 401, 120},
		{"WrongKey", "/stats/call-details.json", "POST", signed(t, "other", testSecret, good), 401, 121},
		{"WrongSecret", "/stats/call-details.json", "POST", signed(t, testKey, "guess", good), 401, 121},
		{"Tampered", "/stats/call-details.json", "POST", tampered, 401, 121},
		{"NotJSON", "/stats/call-details.json", "POST", []byte(`generalCallID=1`), 400, 100},
		{"TooLarge", "/stats/call-details.json", "POST", []byte(`{"x":"` + strings.Repeat("a", 5000) + `"}`), 413, 101},
		{"Deep", "/stats/call-details.json", "POST", []byte(strings.Repeat("[", 50) + strings.Repeat("]", 50)), 400, 100},
		{"GET", "/stats/call-details.json", "GET", nil, 405, 102},
		{"BadID", "/stats/call-details.json", "POST", signed(t, testKey, testSecret, map[string]any{"generalCallID": []any{"1 OR 1=1"}}), 400, 140},
		{"UnknownPath", "/stats/list.json", "POST", signed(t, testKey, testSecret, good), 404, 150},
		{"ClickToCallOff", "/calls/ext-to-phone.json", "POST", signed(t, testKey, testSecret, map[string]any{"ext_number": "801", "phone_number": "0671234567"}), 503, 160},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			req, _ := http.NewRequest(tc.method, b.ts.URL+tc.path, bytes.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var m map[string]any
			json.Unmarshal(raw, &m)
			if resp.StatusCode != tc.status || m["status"] != "error" || m["code"] != float64(tc.code) {
				t.Fatalf("got %d %s, want %d code %d", resp.StatusCode, raw, tc.status, tc.code)
			}
			logs := b.logs.String()
			if !strings.Contains(logs, "refused") {
				t.Errorf("no log line:\n%s", logs)
			}
			if strings.Contains(logs, testSecret) || strings.Contains(string(raw), testSecret) {
				t.Errorf("the secret leaked:\n%s\n%s", logs, raw)
			}
		})
	}
}

func TestBadSignatureLimit(t *testing.T) {
	b := setup(t)
	b.srv.BadLimit = 3
	bad := signed(t, testKey, "guess", map[string]any{"generalCallID": []any{1}})
	good := signed(t, testKey, testSecret, map[string]any{"generalCallID": []any{1}})
	for range 3 {
		if st, _, _ := post(t, b, "/stats/call-details.json", bad); st != 401 {
			t.Fatalf("status %d", st)
		}
	}
	if st, m, _ := post(t, b, "/stats/call-details.json", good); st != 429 || m["code"] != 131.0 {
		t.Fatalf("after 3 bad signatures: %d %v, want 429", st, m)
	}
	b.now.Add(time.Minute)
	if st, _, raw := post(t, b, "/stats/call-details.json", good); st != 200 {
		t.Fatalf("after the window: %d %s", st, raw)
	}
}

func TestAllow(t *testing.T) {
	b := setup(t)
	b.srv.Allow = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	good := signed(t, testKey, testSecret, map[string]any{"generalCallID": []any{1}})
	if st, _, _ := post(t, b, "/stats/call-details.json", good); st != 403 {
		t.Fatalf("status %d, want 403", st)
	}
	b.srv.Allow = append(b.srv.Allow, netip.MustParsePrefix("127.0.0.0/8"))
	if st, _, _ := post(t, b, "/stats/call-details.json", good); st != 200 {
		t.Fatalf("status %d, want 200", st)
	}
}

func recordURL(t *testing.T, b *bundle, id string) (int, string) {
	t.Helper()
	st, m, raw := post(t, b, "/stats/call-record.json", signed(t, testKey, testSecret, map[string]any{"callID": id}))
	if st == 200 {
		checkAnswer(t, raw)
	}
	u, _ := m["url"].(string)
	return st, u
}

func get(t *testing.T, url string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

func TestRecording(t *testing.T) {
	b := setup(t)
	want, _ := os.ReadFile(filepath.Join(b.dir, "2026/12/02/in-1.wav"))
	for _, id := range []string{"1796177339045", "5"} {
		st, u := recordURL(t, b, id)
		if st != 200 || !strings.HasPrefix(u, b.ts.URL+"/recordings/"+id+"?") {
			t.Fatalf("%s: %d %q", id, st, u)
		}
		code, h, body := get(t, u)
		if code != 200 || !bytes.Equal(body, want) || h.Get("Content-Type") != "audio/wav" {
			t.Fatalf("%s: %d %s %q", id, code, h.Get("Content-Type"), body)
		}
	}
	_, u := recordURL(t, b, "1796177339045")
	if code, _, body := get(t, u, "Range", "bytes=4-7"); code != 206 || string(body) != "...." {
		t.Fatalf("range: %d %q", code, body)
	}
	for name, bad := range map[string]string{
		"OtherID":  strings.Replace(u, "/1796177339045?", "/5?", 1),
		"Later":    strings.Replace(u, "expires=", "expires=9", 1),
		"Sig":      u[:len(u)-1] + map[bool]string{true: "0", false: "1"}[u[len(u)-1] != '0'],
		"NoSig":    u[:strings.Index(u, "&sig=")],
		"DotDot":   b.ts.URL + "/recordings/..%2f..%2fetc%2fpasswd" + u[strings.Index(u, "?"):],
		"Absolute": b.ts.URL + "/recordings/%2fetc%2fpasswd" + u[strings.Index(u, "?"):],
	} {
		if code, _, body := get(t, bad); code != 403 {
			t.Errorf("%s: %d %s, want 403", name, code, body)
		}
	}
	b.now.Add(15*time.Minute + time.Second)
	if code, _, _ := get(t, u); code != 410 {
		t.Fatalf("expired link: %d, want 410", code)
	}
	// Files outside the directory are never served, whatever CEL named.
	for _, id := range []string{"2", "3", "4", "999"} {
		if st, _ := recordURL(t, b, id); st != 404 {
			t.Errorf("call %s: %d, want 404", id, st)
		}
	}
	if strings.Contains(b.logs.String(), "link-key") {
		t.Fatal("the link key leaked into the log")
	}
}

func TestExtToPhone(t *testing.T) {
	fake := amitest.Start(t, "../ami/testdata/originate_answered.json")
	client := &ami.Client{Addr: fake.Addr(), Username: "celbridge", Secret: "secret-redacted"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { client.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := client.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	b := setup(t)
	b.srv.Originator = client
	for _, bad := range []map[string]any{
		{"ext_number": "801\r\nAction: Command", "phone_number": "0671234567"},
		{"ext_number": "999", "phone_number": "0671234567"},
		{"ext_number": "801", "phone_number": "0671234567\r\nChannel: PJSIP/805"},
		{"ext_number": "801", "phone_number": "067 123 45 67"},
		{"ext_number": "801", "phone_number": "*98"},
		{"ext_number": "801"},
	} {
		if st, _, raw := post(t, b, "/calls/ext-to-phone.json", signed(t, testKey, testSecret, bad)); st != 400 {
			t.Errorf("%q: %d %s, want 400", bad, st, raw)
		}
	}
	st, m, raw := post(t, b, "/stats/calls/ext-to-phone.json",
		signed(t, testKey, testSecret, map[string]any{"ext_number": 801, "phone_number": "0671234567"}))
	if st != 200 || m["status"] != "success" {
		t.Fatalf("%d %s", st, raw)
	}
	checkAnswer(t, raw)
	got := fake.Received()
	if len(got) != 2 || got[1].Get("Action") != "Originate" {
		t.Fatalf("AMI saw %q, want Login and one Originate", got)
	}
}
