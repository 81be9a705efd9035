package clitest

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Request is one request the test CRM received.
type Request struct {
	Key, Call, Body string // Idempotency-Key, generalCallID, the form as sent
	ContentType     string
	Status          int  // the status the CRM decided on; 0 while in progress or abandoned
	Done            bool // the handler finished writing its response
}

// KillMarker stands in the request log for a kill of the celbridge process (CRM.Mark).
const KillMarker = "KILL"

// CRM is Clinica Web as the tests play it: a real HTTP server on a fixed address that records
// every request, can be taken down (connections refused) and brought back, and told how to
// answer.
type CRM struct {
	t    testing.TB
	Addr string // host:port, the same after Down and Up
	// ErrorBody is the body of an answer other than 200 (default: the status text).
	ErrorBody string

	mu     sync.Mutex
	srv    *http.Server
	answer func(r *Request) (status int, delay time.Duration) // nil: 200 at once
	log    []Request                                          // in arrival order, with kill markers
	active int                                                // handlers running
}

// NewCRM starts a CRM on a free loopback port; it is taken down when the test ends.
func NewCRM(t testing.TB) *CRM {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &CRM{t: t, Addr: ln.Addr().String()}
	c.serve(ln)
	t.Cleanup(c.Down)
	return c
}

// URL is the server's base URL; PushURL is where crm.url points.
func (c *CRM) URL() string     { return "http://" + c.Addr }
func (c *CRM) PushURL() string { return c.URL() + "/api/Binotel/Push" }

func (c *CRM) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(c.handle)}
	c.mu.Lock()
	c.srv = srv
	c.mu.Unlock()
	go srv.Serve(ln)
}

// Down closes the listener and every connection: new connections are refused.
func (c *CRM) Down() {
	c.mu.Lock()
	srv := c.srv
	c.srv = nil
	c.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Up listens again on the same address.
func (c *CRM) Up() {
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		c.t.Fatalf("CRM listen again on %s: %v", c.Addr, err)
	}
	c.serve(ln)
}

// SetAnswer makes f decide each answer's status and how long it takes (nil: 200 at once).
func (c *CRM) SetAnswer(f func(r *Request) (int, time.Duration)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answer = f
}

func (c *CRM) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Key: r.Header.Get("Idempotency-Key"), Body: string(body), ContentType: r.Header.Get("Content-Type")}
	if form, err := url.ParseQuery(req.Body); err == nil {
		req.Call = form.Get("generalCallID")
	}
	c.mu.Lock()
	idx := len(c.log)
	c.log = append(c.log, req)
	c.active++
	answer, errBody := c.answer, c.ErrorBody
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.active--
		c.mu.Unlock()
	}()
	status, delay := http.StatusOK, time.Duration(0)
	if answer != nil {
		status, delay = answer(&req)
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return // the client gave up (its timeout) or died
		}
	}
	c.mu.Lock()
	c.log[idx].Status = status
	c.mu.Unlock()
	if status != http.StatusOK {
		if errBody == "" {
			errBody = "test CRM says " + http.StatusText(status)
		}
		http.Error(w, errBody, status)
	} else {
		w.Write([]byte("ok"))
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	c.mu.Lock()
	c.log[idx].Done = true
	c.mu.Unlock()
}

// Mark appends a kill marker once no handler runs any more.
func (c *CRM) Mark() {
	for {
		c.mu.Lock()
		if c.active == 0 {
			c.log = append(c.log, Request{Key: KillMarker})
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
}

// Snapshot returns the requests so far, in arrival order, with kill markers.
func (c *CRM) Snapshot() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Request(nil), c.log...)
}

// Accepted returns the bodies answered 200, per call, in arrival order.
func Accepted(log []Request) map[string][]string {
	m := map[string][]string{}
	for _, r := range log {
		if r.Status == http.StatusOK {
			m[r.Call] = append(m[r.Call], r.Body)
		}
	}
	return m
}

// FirstCopies is Accepted without repeats: each request's first accepted copy.
func FirstCopies(log []Request) map[string][]string {
	m := map[string][]string{}
	seen := map[string]bool{}
	for _, r := range log {
		if r.Status == http.StatusOK && !seen[r.Key] {
			seen[r.Key] = true
			m[r.Call] = append(m[r.Call], r.Body)
		}
	}
	return m
}

// AcceptedInOrder returns the requests answered 200, in arrival order.
func AcceptedInOrder(log []Request) []Request {
	var out []Request
	for _, r := range log {
		if r.Status == http.StatusOK {
			out = append(out, r)
		}
	}
	return out
}
