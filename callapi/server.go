// Package callapi serves the three methods the CRM calls on the PBX side, the way it calls
// Binotel's API: call details (/stats/call-details.json), a recording link
// (/stats/call-record.json, the link itself being GET /recordings/<callID>) and click-to-call
// (/calls/ext-to-phone.json). Requests and answers are signed as Binotel signs them: the
// lowercase hex md5 of the secret followed by the PHP json_encode of the other parameters
// sorted by name (phpjson.go).
//
// Every request is hostile until its signature checks out: the address must be in Allow, an
// address that sent too many bad signatures is refused for a while, the body is bounded and
// read under a deadline, and nothing about the secret reaches a log line or an answer.
package callapi

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Server is the API. Set the fields, then serve Handler.
type Server struct {
	// Key names the client (the CRM) and Secret signs its requests and our answers.
	Key, Secret string
	// Calls is the call log; Originator places click-to-call calls (nil: click-to-call off).
	Calls      CallLog
	Originator Originator
	// Extension reports whether ext is a known extension, the only ones click-to-call rings.
	Extension func(ext string) bool
	// Employees by extension, for employeeName and employeeEmail; DIDNames by DID, for
	// didName (FreePBX's inbound route descriptions).
	Employees map[string]Employee
	DIDNames  map[string]string
	// TrunkNumbers maps a trunk's name to the clinic's number on it (FreePBX's trunk
	// outbound caller ID), for trunkNumber.
	TrunkNumbers map[string]string
	// CompanyID is sent in each call's details (crm.company_id).
	CompanyID string
	// RecordingsDir is where MixMonitor files are (FreePBX: /var/spool/asterisk/monitor);
	// nothing outside it is served.
	RecordingsDir string
	// PublicURL is how the CRM reaches this server ("https://pbx.example.com:8443"); recording
	// links start with it.
	PublicURL string
	// LinkKey signs recording links (HMAC-SHA256); LinkTTL is how long one works (15m).
	LinkKey []byte
	LinkTTL time.Duration
	// Allow lists the addresses that may call the signed methods; empty allows any. Recording
	// links are not limited by address: the CRM's users play them from their browsers.
	Allow []netip.Prefix
	// MaxBody bounds a request body (default 64 KiB).
	MaxBody int64
	// BadLimit is how many bad signatures an address may send in BadWindow before all its
	// requests are refused until the window ends (default 10 per minute).
	BadLimit  int
	BadWindow time.Duration
	// Now is the clock (default time.Now); Logger defaults to slog.Default().
	Now    func() time.Time
	Logger *slog.Logger

	once     sync.Once
	requests *prometheus.CounterVec
	bad      badAddrs
}

// Employee is an [[employees]] entry.
type Employee struct {
	Name, Email string
}

// Error codes of the answers, in Binotel's shape {"status":"error","code":…,"message":…}.
const (
	codeBadJSON      = 100
	codeTooLarge     = 101
	codeMethod       = 102
	codeNoSignature  = 120
	codeBadSignature = 121
	codeForbidden    = 130
	codeTooMany      = 131
	codeBadParam     = 140
	codeNotFound     = 150
	codeLinkExpired  = 151
	codeLinkInvalid  = 152
	codeUnavailable  = 160
	codeInternal     = 199
)

// apiError is a refusal: its HTTP status, code and message (safe to show), and the reason
// counted in the metric.
type apiError struct {
	status, code int
	message      string
	reason       string
}

func (e *apiError) Error() string { return e.message }

func refuse(status, code int, reason, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, reason: reason, message: fmt.Sprintf(format, args...)}
}

func (s *Server) init() {
	s.once.Do(func() {
		s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "celbridge_api_requests_total",
			Help: "Requests to the CRM API, by method and result (ok, or why they were refused).",
		}, []string{"method", "result"})
		if s.MaxBody <= 0 {
			s.MaxBody = 64 << 10
		}
		if s.BadLimit <= 0 {
			s.BadLimit = 10
		}
		if s.BadWindow <= 0 {
			s.BadWindow = time.Minute
		}
		if s.LinkTTL <= 0 {
			s.LinkTTL = 15 * time.Minute
		}
		if s.Now == nil {
			s.Now = time.Now
		}
		if s.Logger == nil {
			s.Logger = slog.Default()
		}
	})
}

// Collectors are the API's metrics, to register with the /metrics registry.
func (s *Server) Collectors() []prometheus.Collector {
	s.init()
	return []prometheus.Collector{s.requests}
}

// method is one signed POST method.
type method func(ctx context.Context, p object) (object, error)

// Handler serves every path of the API, with and without Binotel's /api/4.0 prefix.
func (s *Server) Handler() http.Handler {
	s.init()
	mux := http.NewServeMux()
	for _, prefix := range []string{"", "/api/4.0"} {
		mux.Handle(prefix+"/stats/call-details.json", s.signed("call-details", s.callDetails))
		mux.Handle(prefix+"/stats/call-record.json", s.signed("call-record", s.callRecord))
		mux.Handle(prefix+"/calls/ext-to-phone.json", s.signed("ext-to-phone", s.extToPhone))
		mux.Handle(prefix+"/stats/calls/ext-to-phone.json", s.signed("ext-to-phone", s.extToPhone))
	}
	mux.HandleFunc("/recordings/", s.recording)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, "unknown", refuse(http.StatusNotFound, codeNotFound, "unknown_path", "no such method"))
	})
	return mux
}

// signed wraps a method in the checks every signed request passes, in order: the address,
// the bad-signature limit, POST, the body, the key and the signature.
func (s *Server) signed(name string, m method) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := remoteAddr(r)
		if !s.allowed(addr) {
			s.fail(w, r, name, refuse(http.StatusForbidden, codeForbidden, "address", "address not allowed"))
			return
		}
		if s.bad.blocked(addr, s.Now()) {
			s.fail(w, r, name, refuse(http.StatusTooManyRequests, codeTooMany, "too_many_bad_signatures", "too many bad signatures; try again later"))
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			s.fail(w, r, name, refuse(http.StatusMethodNotAllowed, codeMethod, "method", "use POST with a JSON body"))
			return
		}
		p, err := s.readParams(w, r)
		if err == nil {
			err = s.authenticate(p, addr)
		}
		var ans object
		if err == nil {
			ans, err = m(r.Context(), p)
		}
		if err != nil {
			s.fail(w, r, name, err)
			return
		}
		s.requests.WithLabelValues(name, "ok").Inc()
		s.answer(w, ans)
	})
}

func (s *Server) readParams(w http.ResponseWriter, r *http.Request) (object, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, refuse(http.StatusRequestEntityTooLarge, codeTooLarge, "too_large", "body larger than %d bytes", s.MaxBody)
		}
		return nil, refuse(http.StatusBadRequest, codeBadJSON, "read", "could not read the body")
	}
	v, err := decode(body)
	p, ok := v.(object)
	if err != nil || !ok {
		return nil, refuse(http.StatusBadRequest, codeBadJSON, "bad_json", "the body must be one JSON object")
	}
	return p, nil
}

// authenticate checks key and signature in constant time. A bad one counts against addr.
func (s *Server) authenticate(p object, addr netip.Addr) error {
	key, _ := p.get("key")
	sig, _ := p.get("signature")
	k, kok := key.(string)
	g, gok := sig.(string)
	if !kok || !gok || k == "" || g == "" {
		s.bad.add(addr, s.Now(), s.BadLimit, s.BadWindow)
		return refuse(http.StatusUnauthorized, codeNoSignature, "missing_signature", "key and signature are required")
	}
	want, err := s.sign(p.ksorted("key", "signature"))
	if err != nil {
		return refuse(http.StatusBadRequest, codeBadJSON, "bad_json", "the parameters cannot be signed (invalid UTF-8?)")
	}
	keyOK := subtle.ConstantTimeCompare([]byte(k), []byte(s.Key)) == 1
	sigOK := subtle.ConstantTimeCompare([]byte(strings.ToLower(g)), []byte(want)) == 1
	if !keyOK || !sigOK {
		s.bad.add(addr, s.Now(), s.BadLimit, s.BadWindow)
		reason := "bad_signature"
		if !keyOK {
			reason = "bad_key"
		}
		return refuse(http.StatusUnauthorized, codeBadSignature, reason, "wrong key or signature")
	}
	return nil
}

// sign is md5(secret + json_encode(params)) in lowercase hex; params must be sorted already.
func (s *Server) sign(params object) (string, error) {
	js, err := encodePHP(params)
	if err != nil {
		return "", err
	}
	sum := md5.Sum(append([]byte(s.Secret), js...))
	return hex.EncodeToString(sum[:]), nil
}

// answer writes a success answer, signed over its other fields sorted by name.
func (s *Server) answer(w http.ResponseWriter, ans object) {
	ans = append(object{{"status", "success"}}, ans...)
	sig, err := s.sign(ans.ksorted())
	if err != nil {
		s.Logger.Error("api: sign answer", "err", err)
		http.Error(w, `{"status":"error","code":199,"message":"internal error"}`, http.StatusInternalServerError)
		return
	}
	body, _ := encodePHP(append(ans, member{"signature", sig}))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body)
}

// fail answers err as Binotel does, counts it and logs one line without secrets.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, name string, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		s.Logger.Error("api request failed", "method", name, "remote", remoteAddr(r).String(), "err", err)
		ae = refuse(http.StatusInternalServerError, codeInternal, "internal", "internal error")
	} else {
		s.Logger.Warn("api request refused", "method", name, "path", safe(r.URL.Path),
			"remote", remoteAddr(r).String(), "reason", ae.reason, "status", ae.status)
	}
	s.requests.WithLabelValues(name, ae.reason).Inc()
	body, _ := encodePHP(object{{"status", "error"}, {"code", ae.code}, {"message", ae.message}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(ae.status)
	w.Write(body)
}

func (s *Server) allowed(addr netip.Addr) bool {
	if len(s.Allow) == 0 {
		return true
	}
	for _, p := range s.Allow {
		if p.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}

// remoteAddr is the peer's address (no proxy header is trusted).
func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// safe trims and cleans request text for a log line.
func safe(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
