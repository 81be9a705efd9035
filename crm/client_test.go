package crm_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
)

// gotRequest is what the fake CRM received.
type gotRequest struct {
	Method, Path, Body string
	Header             http.Header
	Form               map[string]string
}

// recordCRM is a fake CRM that records every request and answers with reply.
type recordCRM struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []gotRequest
}

func newRecordCRM(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) *recordCRM {
	t.Helper()
	c := &recordCRM{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		got := gotRequest{Method: r.Method, Path: r.URL.Path, Body: string(b), Header: r.Header.Clone(), Form: map[string]string{}}
		if err := r.ParseForm(); err != nil {
			t.Errorf("parse form: %v", err)
		}
		for k := range r.PostForm {
			got.Form[k] = r.PostForm.Get(k)
		}
		c.mu.Lock()
		c.reqs = append(c.reqs, got)
		c.mu.Unlock()
		reply(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *recordCRM) requests() []gotRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]gotRequest(nil), c.reqs...)
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "OK-BODY") }

const gcid = "173260000045"

func incoming(requestType string) celbridge.Event {
	return celbridge.Event{
		LinkedID: "1732600000.45", GeneralCallID: gcid, RequestType: requestType, CallType: celbridge.Incoming,
		DIDNumber: "0443334000", ExternalNumber: "0670219424", InternalNumber: "801",
	}
}

func outgoing(requestType string) celbridge.Event {
	return celbridge.Event{
		LinkedID: "1732600000.46", GeneralCallID: "173260000046", RequestType: requestType, CallType: celbridge.Outgoing,
		ExternalNumber: "+380671234567", InternalNumber: "802",
	}
}

func TestClient_Push_Fields(t *testing.T) {
	transfer := incoming(celbridge.Transferred)
	transfer.Seq, transfer.InternalNumber = 2, "805"
	hangup := incoming(celbridge.Hangup)
	hangup.Billsec, hangup.Disposition = 42, celbridge.DispAnswer
	// Bodies spelled out from DESIGN §1: field names, order, companyID before requestType.
	tests := []struct {
		name, company string
		ev            celbridge.Event
		body, key     string
	}{
		{"IncomingReceived", "3041", incoming(celbridge.Received),
			"didNumber=0443334000&externalNumber=0670219424&internalNumber=801&generalCallID=173260000045&callType=0&companyID=3041&requestType=receivedTheCall",
			"173260000045-receivedTheCall"},
		{"OutgoingReceived", "3041", outgoing(celbridge.Received),
			"externalNumber=%2B380671234567&internalNumber=802&generalCallID=173260000046&callType=1&companyID=3041&requestType=receivedTheCall",
			"173260000046-receivedTheCall"},
		{"IncomingAnswered", "3041", incoming(celbridge.Answered),
			"didNumber=0443334000&externalNumber=0670219424&internalNumber=801&generalCallID=173260000045&callType=0&companyID=3041&requestType=answeredTheCall",
			"173260000045-answeredTheCall"},
		{"OutgoingAnswered", "3041", outgoing(celbridge.Answered),
			"externalNumber=%2B380671234567&internalNumber=802&generalCallID=173260000046&callType=1&companyID=3041&requestType=answeredTheCall",
			"173260000046-answeredTheCall"},
		{"Transferred", "3041", transfer,
			"internalNumber=805&generalCallID=173260000045&companyID=3041&requestType=transferredTheCall",
			"173260000045-transferredTheCall-2"},
		{"Hangup", "3041", hangup,
			"generalCallID=173260000045&billsec=42&disposition=ANSWER&companyID=3041&requestType=hangupTheCall",
			"173260000045-hangupTheCall"},
		{"NoCompanyID", "", incoming(celbridge.Received),
			"didNumber=0443334000&externalNumber=0670219424&internalNumber=801&generalCallID=173260000045&callType=0&requestType=receivedTheCall",
			"173260000045-receivedTheCall"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRecordCRM(t, ok)
			c := &crm.Client{URL: srv.URL + "/api/Binotel/Push", CompanyID: tt.company}
			if err := c.Push(t.Context(), tt.ev); err != nil {
				t.Fatalf("Push: %v", err)
			}
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != "/api/Binotel/Push" {
				t.Errorf("got %s %s, want POST /api/Binotel/Push", r.Method, r.Path)
			}
			if r.Body != tt.body {
				t.Errorf("body\n got %s\nwant %s", r.Body, tt.body)
			}
			if got := r.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded; charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
			if got := r.Header.Get("Idempotency-Key"); got != tt.key {
				t.Errorf("Idempotency-Key %q, want %q", got, tt.key)
			}
			if _, ok := r.Form["companyID"]; ok != (tt.company != "") {
				t.Errorf("companyID present = %v, want %v", ok, tt.company != "")
			}
			if got := r.Form["requestType"]; got != tt.ev.RequestType {
				t.Errorf("server parsed requestType %q", got)
			}
		})
	}
}

func TestClient_Push_Headers(t *testing.T) {
	srv := newRecordCRM(t, ok)
	c := &crm.Client{
		URL:     srv.URL,
		Headers: map[string]string{"Authorization": "Bearer s3cret", "X-Api-Key": "k3y"},
		Version: "1.2.3",
	}
	if err := c.Push(t.Context(), incoming(celbridge.Received)); err != nil {
		t.Fatal(err)
	}
	h := srv.requests()[0].Header
	for name, want := range map[string]string{
		"Authorization": "Bearer s3cret", "X-Api-Key": "k3y", "User-Agent": "celbridge/1.2.3",
		"Idempotency-Key": gcid + "-receivedTheCall",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	t.Run("DefaultVersion", func(t *testing.T) {
		c := &crm.Client{URL: srv.URL}
		if err := c.Push(t.Context(), incoming(celbridge.Received)); err != nil {
			t.Fatal(err)
		}
		reqs := srv.requests()
		if got := reqs[len(reqs)-1].Header.Get("User-Agent"); got != "celbridge/dev" {
			t.Errorf("User-Agent %q", got)
		}
	})
}

// TestClient_Push_ControlCharacters: a generalCallID with control characters (call_id =
// "linkedid" sends CEL's linkedid as is) is sent without them, in the form and in the
// Idempotency-Key, instead of failing every attempt as a malformed header.
func TestClient_Push_ControlCharacters(t *testing.T) {
	srv := newRecordCRM(t, ok)
	e := incoming(celbridge.Hangup)
	e.GeneralCallID, e.Disposition = "1732600000.45\x1b[2J\r\n", "ANS\xffWER"
	if err := (&crm.Client{URL: srv.URL}).Push(t.Context(), e); err != nil {
		t.Fatalf("Push: %v", err)
	}
	r := srv.requests()[0]
	if got := r.Header.Get("Idempotency-Key"); got != "1732600000.45[2J-hangupTheCall" {
		t.Errorf("Idempotency-Key %q", got)
	}
	if r.Form["generalCallID"] != "1732600000.45[2J" || r.Form["disposition"] != "ANS\uFFFDWER" {
		t.Errorf("form %q", r.Form)
	}
}

func TestClient_Push_Status(t *testing.T) {
	long := strings.Repeat("x", 2000)
	tests := []struct {
		code      int
		body      string
		wantBody  string
		permanent bool
	}{
		{400, "unknown companyID\n", "unknown companyID", true},
		{401, "", "", true},
		{404, "no route", "no route", true},
		{422, long, long[:512], true},
		{408, "slow", "slow", false},
		{429, "later", "later", false},
		{500, "boom", "boom", false},
		{502, "", "", false},
		{503, "maintenance", "maintenance", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			srv := newRecordCRM(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.code)
				_, _ = io.WriteString(w, tt.body)
			})
			err := (&crm.Client{URL: srv.URL}).Push(t.Context(), incoming(celbridge.Received))
			var se *crm.StatusError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want *StatusError", err)
			}
			if se.Code != tt.code || se.Body != tt.wantBody {
				t.Errorf("got {%d %q}, want {%d %q}", se.Code, se.Body, tt.code, tt.wantBody)
			}
			if crm.IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v", !tt.permanent, tt.permanent)
			}
		})
	}
}

func TestClient_Push_2xx(t *testing.T) {
	for _, code := range []int{200, 201, 202, 204} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv := newRecordCRM(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(code)
				if code != http.StatusNoContent {
					// Longer than the drain limit: Push must still succeed.
					_, _ = io.WriteString(w, strings.Repeat(`{"status":"success"}`, 10000))
				}
			})
			if err := (&crm.Client{URL: srv.URL}).Push(t.Context(), incoming(celbridge.Received)); err != nil {
				t.Fatalf("Push: %v", err)
			}
		})
	}
}

func TestClient_Push_Timeout(t *testing.T) {
	srv := newRecordCRM(t, func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c := &crm.Client{URL: srv.URL, Timeout: 20 * time.Millisecond}
	err := c.Push(t.Context(), incoming(celbridge.Received))
	if !errors.Is(err, context.DeadlineExceeded) || crm.IsPermanent(err) {
		t.Fatalf("got %v, want a transient deadline error", err)
	}
	if !strings.Contains(err.Error(), "no answer within 20ms") {
		t.Errorf("error %q does not name the timeout", err)
	}

	t.Run("CallerCancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := c.Push(ctx, incoming(celbridge.Received)); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
}

func TestClient_Push_ConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	c := &crm.Client{URL: "http://celuser:secretpw@" + addr + "/api/Binotel/Push?token=qsecret"}
	err := c.Push(t.Context(), incoming(celbridge.Received))
	if !errors.Is(err, syscall.ECONNREFUSED) || crm.IsPermanent(err) {
		t.Fatalf("got %v, want a transient connection refused", err)
	}
	for _, secret := range []string{"celuser", "secretpw", "qsecret"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q leaks %q", err, secret)
		}
	}
	if !strings.Contains(err.Error(), addr+"/api/Binotel/Push?token=xxxxx") {
		t.Errorf("error %q does not show the redacted URL", err)
	}
}

func TestClient_Validate(t *testing.T) {
	for _, u := range []string{"", "ftp://host/x", "/api/Binotel/Push", "http://u:pa%zzs3kr1t@host/", "https://u:s3kr1t@/path", "http://h\x7fs3kr1t/", "http://u:s3kr1t@host:port/"} {
		err := (&crm.Client{URL: u}).Validate()
		if err == nil {
			t.Errorf("Validate(%q) = nil, want error", u)
			continue
		}
		if strings.Contains(err.Error(), "s3kr1t") {
			t.Errorf("Validate(%q) leaks the secret: %v", u, err)
		}
	}
	if err := (&crm.Client{URL: "https://u:p@clinic.example.com/api/Binotel/Push"}).Validate(); err != nil {
		t.Errorf("valid URL: %v", err)
	}
}

func TestClient_Push_RedirectToOtherHost(t *testing.T) {
	other := newRecordCRM(t, ok)
	srv := newRecordCRM(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusTemporaryRedirect)
	})
	// Same address, other port: another server all the same.
	c := &crm.Client{URL: srv.URL, Headers: map[string]string{"X-Api-Key": "k3y"}}
	err := c.Push(t.Context(), incoming(celbridge.Received))
	if err == nil || !crm.IsPermanent(err) || !strings.Contains(err.Error(), "set crm.url to that address") ||
		!strings.Contains(err.Error(), other.URL+"/elsewhere") {
		t.Fatalf("got %v, want a permanent error naming where crm.url redirects", err)
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("other host got %d requests with our headers", n)
	}
}

// TestClient_Push_RedirectSameHost: net/http turns a POST into a GET without the form on
// 301/302/303; following it, a 2xx would count as delivered though the CRM never got the call.
func TestClient_Push_RedirectSameHost(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusPermanentRedirect} {
		var gets atomic.Int32
		srv := newRecordCRM(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/old" {
				http.Redirect(w, r, "/new", code)
				return
			}
			gets.Add(1)
		})
		err := (&crm.Client{URL: srv.URL + "/old"}).Push(t.Context(), incoming(celbridge.Received))
		if err == nil || !crm.IsPermanent(err) || !strings.Contains(err.Error(), "/new") {
			t.Errorf("%d: got %v, want a permanent error naming /new", code, err)
		}
		if n := gets.Load(); n != 0 {
			t.Errorf("%d: the redirect was followed (%d requests to /new)", code, n)
		}
	}
}

func TestIsPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("dial tcp: refused"), false},
		{context.DeadlineExceeded, false},
		{&crm.StatusError{Code: 400}, true},
		{fmt.Errorf("push: %w", &crm.StatusError{Code: 403}), true},
		{&crm.StatusError{Code: 408}, false},
		{&crm.StatusError{Code: 429}, false},
		{&crm.StatusError{Code: 499}, true},
		{&crm.StatusError{Code: 500}, false},
		{&crm.StatusError{Code: 302}, true}, // a redirect: crm.url must be fixed
	}
	for _, tt := range tests {
		if got := crm.IsPermanent(tt.err); got != tt.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestStatusError_Error(t *testing.T) {
	if got := (&crm.StatusError{Code: 400, Body: "bad"}).Error(); got != "HTTP 400: bad" {
		t.Errorf("got %q", got)
	}
	if got := (&crm.StatusError{Code: 502}).Error(); got != "HTTP 502" {
		t.Errorf("got %q", got)
	}
}

// TestClient_Push_RedactsEcho: a CRM that echoes a secret in its error body gets it replaced
// in the *StatusError, whose text is what the log, the outbox and every command show.
func TestClient_Push_RedactsEcho(t *testing.T) {
	const (
		bearer = "Bearer s3cr3t-T0ken/+x"
		token  = "s3cr3t-T0ken/+x"
	)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("clinic:b4sic-pw"))
	headers := map[string]string{"Authorization": bearer, "X-Basic": basic, "X-Short": "abc"}
	tests := []struct {
		name, body, want string
	}{
		{"Header", "invalid header Bearer s3cr3t-T0ken/+x", "invalid header [redacted]"},
		{"CredentialsOnly", "token s3cr3t-T0ken/+x is expired", "token [redacted] is expired"},
		{"OtherCase", "token S3CR3T-t0KEN/+X", "token [redacted]"},
		{"QueryEncoded", "got auth=Bearer+s3cr3t-T0ken%2F%2Bx", "got auth=[redacted]"},
		{"QueryEncodedLowerHex", "got s3cr3t-T0ken%2f%2bx", "got [redacted]"},
		{"PathEncoded", "got /Bearer%20s3cr3t-T0ken%2F+x/", "got /[redacted]/"},
		{"JSONSlash", `{"error":"token s3cr3t-T0ken\/+x"}`, `{"error":"token [redacted]"}`},
		{"Basic", "user clinic:b4sic-pw, password b4sic-pw", "user [redacted], password [redacted]"},
		{"URLPassword", "celuser p4ss-w0rd", "celuser [redacted]"},
		{"URLQueryToken", "token=q-s3cr3t-42 companyID=3041", "token=[redacted] companyID=3041"},
		{"ShortValueKept", "abc is not a secret worth mangling: abcdef", "abc is not a secret worth mangling: abcdef"},
		{"ControlCharacters", "bad\x1b[2J\x1b]0;owned\x07 request\r\nline\u202e2\x00\xff", "bad [2J ]0;owned request line 2 \uFFFD"},
		{"Overlapping", "Bearer s3cr3t-T0ken/+xs3cr3t-T0ken/+x!", "[redacted]!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRecordCRM(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, tt.body)
			})
			u := strings.Replace(srv.URL, "http://", "http://celuser:p4ss-w0rd@", 1) + "/?token=q-s3cr3t-42&companyID=3041"
			err := (&crm.Client{URL: u, Headers: headers}).Push(t.Context(), incoming(celbridge.Received))
			var se *crm.StatusError
			if !errors.As(err, &se) || se.Code != http.StatusUnauthorized {
				t.Fatalf("got %v, want a 401 *StatusError", err)
			}
			if se.Body != tt.want {
				t.Errorf("body\n got %q\nwant %q", se.Body, tt.want)
			}
			if err.Error() != "HTTP 401: "+tt.want {
				t.Errorf("error %q", err)
			}
		})
	}
}

// TestClient_Push_RedactsAtTheCut: a secret that straddles the 512-byte cut is hidden whole,
// not shown in part; a long body still ends up at most 512 bytes.
func TestClient_Push_RedactsAtTheCut(t *testing.T) {
	const secret = "Bearer s3cr3t-T0ken-0123456789abcdef"
	for _, at := range []int{500, 505, 511, 512} {
		body := strings.Repeat("x", at) + secret + strings.Repeat("y", 600)
		srv := newRecordCRM(t, func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, body)
		})
		err := (&crm.Client{URL: srv.URL, Headers: map[string]string{"Authorization": secret}}).Push(t.Context(), incoming(celbridge.Received))
		var se *crm.StatusError
		if !errors.As(err, &se) {
			t.Fatalf("got %v", err)
		}
		for _, part := range []string{"s3cr3t", "Bearer", "0123"} {
			if strings.Contains(se.Body, part) {
				t.Errorf("secret at byte %d: body shows %q: ...%s", at, part, se.Body[max(len(se.Body)-40, 0):])
			}
		}
		if len(se.Body) > 512 || len(se.Body) < 500 || strings.Contains(se.Body, "y") {
			t.Errorf("secret at byte %d: body of %d bytes ends %q", at, len(se.Body), se.Body[max(len(se.Body)-20, 0):])
		}
	}
}

// TestClient_Push_RedactsLocation: a redirect to an address holding a secret does not show it.
func TestClient_Push_RedactsLocation(t *testing.T) {
	srv := newRecordCRM(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/push/s3cr3t-T0ken/?token=abc")
		w.WriteHeader(http.StatusMovedPermanently)
	})
	err := (&crm.Client{URL: srv.URL, Headers: map[string]string{"X-Api-Key": "s3cr3t-T0ken"}}).Push(t.Context(), incoming(celbridge.Received))
	if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "/push/[redacted]/") || strings.Contains(err.Error(), "abc") {
		t.Errorf("got %v, want the redirect shown with the secret redacted", err)
	}
}

func TestClient_Redact(t *testing.T) {
	c := &crm.Client{URL: "https://tok3n-in-user@crm.example.com/push?api_key=k3y-v4lue&sig=s1gn4ture&id=12345",
		Headers: map[string]string{"Authorization": "Bearer s3cr3t"}}
	for in, want := range map[string]string{
		"old HTTP 401: Bearer s3cr3t":          "old HTTP 401: [redacted]",
		"user tok3n-in-user":                   "user [redacted]", // a user name without password is a token
		"key k3y-v4lue sig S1GN4TURE id 12345": "key [redacted] sig [redacted] id 12345",
		"Bearer":                               "Bearer", // the scheme alone is no secret
		"":                                     "",
	} {
		if got := c.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestClient_Push_RedactsTransportError: net/http quotes a malformed answer in its error; a
// secret echoed there is hidden too, and the error still unwraps for classification.
func TestClient_Push_RedactsTransportError(t *testing.T) {
	srv := newRecordCRM(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.Header.Get("Authorization")+"\x1b")
	})
	err := (&crm.Client{URL: srv.URL, Headers: map[string]string{"Authorization": "Bearer s3cr3t-T0ken"}}).Push(t.Context(), incoming(celbridge.Received))
	if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("got %v, want the transport error with the secret redacted", err)
	}
	if crm.IsPermanent(err) {
		t.Errorf("a malformed answer is transient: %v", err)
	}
}
