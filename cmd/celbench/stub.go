package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// stub is a local CRM: it answers every POST with 200 at once and records when each event
// arrived, per URL path (one path per celbridge instance).
type stub struct {
	srv *http.Server
	url string

	mu    sync.Mutex
	byKey map[string]map[string]time.Time // path -> key -> first arrival
	count map[string]int                  // path -> requests, duplicates included
	dups  map[string]int
	wake  chan struct{}
	// bodies keeps, for the paths in it, each call's request bodies in arrival order
	// (generalCallID, the Idempotency-Key's first part, -> bodies).
	bodies map[string]map[string][]string
}

// keepBodies makes the stub keep the bodies path receives.
func (s *stub) keepBodies(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies[path] = map[string][]string{}
}

// callBodies returns what keepBodies kept for path.
func (s *stub) callBodies(path string) map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bodies[path]
}

func newStub() (*stub, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &stub{byKey: map[string]map[string]time.Time{}, count: map[string]int{}, dups: map[string]int{},
		wake: make(chan struct{}, 1), bodies: map[string]map[string][]string{}}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String()
	go s.srv.Serve(ln)
	return s, nil
}

func (s *stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(r.Body)
	key := r.Header.Get("Idempotency-Key")
	path := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	if b := s.bodies[path]; b != nil {
		call, _, _ := strings.Cut(key, "-")
		b[call] = append(b[call], string(body))
	}
	m := s.byKey[path]
	if m == nil {
		m = map[string]time.Time{}
		s.byKey[path] = m
	}
	if _, dup := m[key]; dup {
		s.dups[path]++
	} else {
		m[key] = at
	}
	s.count[path]++
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"status":"success"}`)
}

// received returns how many distinct events path got.
func (s *stub) received(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey[path])
}

// waitFor waits until path received n distinct events or timeout passed; it reports whether
// they all came.
func (s *stub) waitFor(path string, n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		if s.received(path) >= n {
			return true
		}
		select {
		case <-deadline:
			return false
		case <-s.wake:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *stub) arrivals(path string) map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byKey[path]
}

func (s *stub) duplicates(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dups[path]
}
