// Package amitest is a fake Asterisk Manager Interface for tests, driven by a real capture:
// it replays a transcript of ../shared/testdata/ami (the .json form, copied into
// ami/testdata), answering each action the client sends with the bytes the real Asterisk
// sent, chunk by chunk as they were read off the socket. It checks that every action the
// client sends equals the captured one (headers in order; the ActionID is mapped, since the
// client picks its own), and records what it received.
package amitest

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/celbridge/celbridge/ami"
)

// step is one entry of a session: bytes to send, an action to expect, or the server closing.
type step struct {
	send   []byte      // server->client chunk
	expect ami.Message // client->server message
	close  bool        // the server closes the connection here
}

// Server replays a transcript. Each TCP connection replays the next session of the capture
// (a capture with a restart has two).
type Server struct {
	t        testing.TB
	ln       net.Listener
	addr     string
	sessions [][]step

	mu       sync.Mutex
	next     int
	received []ami.Message
	errs     []string
	// RestartPause is how long the listener stays closed after a session that the server
	// ended (Asterisk restarting): connects are refused meanwhile.
	RestartPause time.Duration
	wg           sync.WaitGroup
	conns        []net.Conn
	closing      bool // the test is over: a read cut short is not the client's fault
}

type capture struct {
	Chunks []struct {
		Dir  string `json:"dir"`
		B64  string `json:"b64"`
		Meta string `json:"meta"`
	} `json:"chunks"`
}

// Start loads the transcript at path and listens on a loopback port. The server stops at
// the end of the test, which fails if any action differed from the capture.
func Start(t testing.TB, path string) *Server {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c capture
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	s := &Server{t: t, RestartPause: 200 * time.Millisecond}
	for _, ch := range c.Chunks {
		switch {
		case strings.Contains(ch.Meta, "connection established"):
			s.sessions = append(s.sessions, nil)
		case strings.HasPrefix(ch.Meta, "EOF: server closed"):
			s.add(step{close: true})
		case ch.Dir == "server->client":
			raw, _ := base64.StdEncoding.DecodeString(ch.B64)
			s.add(step{send: raw})
		case ch.Dir == "client->server":
			raw, _ := base64.StdEncoding.DecodeString(ch.B64)
			m, err := ami.ReadMessage(bufio.NewReader(strings.NewReader(string(raw))))
			if err != nil {
				t.Fatalf("parse client chunk of %s: %v", path, err)
			}
			s.add(step{expect: m})
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln, s.addr = ln, ln.Addr().String()
	s.wg.Add(1)
	go s.accept(ln)
	t.Cleanup(func() {
		s.mu.Lock()
		s.closing = true
		s.ln.Close()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
		for _, e := range s.Errors() {
			t.Errorf("fake AMI: %s", e)
		}
	})
	return s
}

func (s *Server) add(st step) {
	if len(s.sessions) == 0 {
		s.sessions = append(s.sessions, nil)
	}
	i := len(s.sessions) - 1
	s.sessions[i] = append(s.sessions[i], st)
}

// Addr is the host:port to give the client.
func (s *Server) Addr() string { return s.addr }

// Received returns every message the client sent, in order.
func (s *Server) Received() []ami.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// Errors returns the differences from the capture seen so far.
func (s *Server) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errs)
}

func (s *Server) fail(format string, args ...any) {
	s.mu.Lock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		i := s.next
		s.next++
		s.mu.Unlock()
		if i >= len(s.sessions) {
			nc.Close() // the capture has no more sessions
			continue
		}
		ended := s.session(nc, s.sessions[i])
		if ended && i+1 < len(s.sessions) {
			s.restart()
			return
		}
	}
}

// restart closes the listener for RestartPause, then listens again on the same address.
func (s *Server) restart() {
	s.mu.Lock()
	s.ln.Close()
	s.mu.Unlock()
	time.Sleep(s.RestartPause)
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.fail("listen again on %s: %v", s.addr, err)
		return
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go s.accept(ln)
}

// session replays one connection; it reports whether the server ended it.
func (s *Server) session(nc net.Conn, steps []step) (serverClosed bool) {
	defer nc.Close()
	// The test may take its time between actions (a loaded machine): the connection waits
	// for the client until the server stops.
	s.mu.Lock()
	s.conns = append(s.conns, nc)
	s.mu.Unlock()
	br := bufio.NewReader(nc)
	ids := map[string]string{} // captured ActionID -> the client's
	for i := 0; i < len(steps); i++ {
		st := steps[i]
		switch {
		case st.close:
			return true
		case st.send != nil:
			if _, err := nc.Write(mapIDs(st.send, ids)); err != nil {
				return false
			}
		default:
			// A run of actions written back to back may arrive in any order.
			var run []ami.Message
			for ; i < len(steps) && steps[i].expect != nil; i++ {
				run = append(run, steps[i].expect)
			}
			i--
			for len(run) > 0 {
				got, err := ami.ReadMessage(br)
				if err != nil {
					s.mu.Lock()
					closing := s.closing
					s.mu.Unlock()
					if !closing {
						s.fail("wanted %s, read: %v", run[0].Get("Action"), err)
					}
					return false
				}
				s.mu.Lock()
				s.received = append(s.received, got)
				s.mu.Unlock()
				j := slices.IndexFunc(run, func(w ami.Message) bool { return same(w, got) })
				if j < 0 {
					s.fail("client sent %q, the capture has %q", got, run)
					return false
				}
				ids[run[j].Get("ActionID")] = got.Get("ActionID")
				run = slices.Delete(run, j, j+1)
			}
		}
	}
	// The capture ends with the client closing: wait for it.
	for {
		m, err := ami.ReadMessage(br)
		if err != nil {
			return false
		}
		s.mu.Lock()
		s.received = append(s.received, m)
		s.mu.Unlock()
		if m.Get("Action") == "Logoff" {
			nc.Write([]byte("Response: Goodbye\r\nActionID: " + m.Get("ActionID") + "\r\nMessage: Thanks for all the fish.\r\n\r\n"))
			return false
		}
	}
}

// same reports whether got is the captured action want, ActionID aside.
func same(want, got ami.Message) bool {
	strip := func(m ami.Message) ami.Message {
		return slices.DeleteFunc(slices.Clone(m), func(h ami.Header) bool { return h.Key == "ActionID" })
	}
	return slices.Equal(strip(want), strip(got))
}

// mapIDs puts the client's ActionIDs where the capture has its own.
func mapIDs(b []byte, ids map[string]string) []byte {
	s := string(b)
	for from, to := range ids {
		s = strings.ReplaceAll(s, "ActionID: "+from+"\r\n", "ActionID: "+to+"\r\n")
	}
	return []byte(s)
}
