package ami_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/celbridge/celbridge/ami"
	"github.com/celbridge/celbridge/internal/amitest"
)

const secret = "secret-redacted" // the captures' AMI secret

// clickToCall is the Originate FreePBX's UCP sends, as the captures have it.
func clickToCall(ext, number string) []ami.Header {
	return []ami.Header{
		{"Channel", "Local/" + ext + "@originate-skipvm"}, {"Exten", number}, {"Context", "from-internal"},
		{"Priority", "1"}, {"Async", "true"}, {"CallerID", "UCP <" + ext + ">"},
	}
}

// run starts a client against srv and waits until it is logged in; the client logs off at
// the end of the test.
func run(t *testing.T, srv *amitest.Server, user, pass string, logs *syncWriter) *ami.Client {
	t.Helper()
	c := &ami.Client{Addr: srv.Addr(), Username: user, Secret: pass, BackoffMin: 20 * time.Millisecond,
		BackoffMax: 200 * time.Millisecond}
	if logs != nil {
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer wcancel()
	if err := c.WaitConnected(wctx); err != nil {
		t.Fatalf("client never logged in: %v", err)
	}
	return c
}

type syncWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestCheck(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		srv := amitest.Start(t, "testdata/login_ok.json")
		if err := ami.Check(t.Context(), srv.Addr(), "celbridge", secret); err != nil {
			t.Fatal(err)
		}
		if got := len(srv.Received()); got != 3 {
			t.Fatalf("server got %d actions, want Login, Ping, Logoff", got)
		}
	})
	t.Run("ErrAuth", func(t *testing.T) {
		srv := amitest.Start(t, "testdata/login_bad_secret.json")
		err := ami.Check(t.Context(), srv.Addr(), "celbridge", "wrong-secret")
		if !errors.Is(err, ami.ErrAuth) {
			t.Fatalf("err = %v, want ErrAuth", err)
		}
		if strings.Contains(err.Error(), "wrong-secret") {
			t.Fatalf("the error shows the secret: %v", err)
		}
	})
	t.Run("NotAMI", func(t *testing.T) {
		srv := amitest.Start(t, "testdata/login_ok.json")
		err := ami.Check(t.Context(), "127.0.0.1:1", "celbridge", secret)
		if err == nil {
			t.Fatal("no error for a closed port")
		}
		_ = srv
	})
}

func TestClient_Originate(t *testing.T) {
	for _, tt := range []struct {
		name, capture              string
		response, uniqueid, reason string
	}{
		{"Answered", "testdata/originate_answered.json", "Success", "1796178283.0", "4"},
		{"AgentNoAnswer", "testdata/originate_ext_no_answer.json", "Failure", "<unknown>", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := amitest.Start(t, tt.capture)
			c := run(t, srv, "celbridge", secret, nil)
			p, err := c.Originate(t.Context(), clickToCall("801", "0671234567")...)
			if err != nil {
				t.Fatal(err)
			}
			m, err := p.Result(ctxTimeout(t))
			if err != nil {
				t.Fatal(err)
			}
			if m.Get("Response") != tt.response || m.Get("Uniqueid") != tt.uniqueid || tt.reason != "" && m.Get("Reason") != tt.reason {
				t.Fatalf("OriginateResponse = %q", m)
			}
		})
	}
	t.Run("TwoInterleaved", func(t *testing.T) {
		// The two results come in the other order than the actions; each must reach its own.
		srv := amitest.Start(t, "testdata/two_actions_interleaved.json")
		c := run(t, srv, "celbridge", secret, nil)
		want := map[string]string{"801": "1796178346.9", "802": "1796178346.11"}
		var wg sync.WaitGroup
		for _, ext := range []string{"801", "802"} {
			number := map[string]string{"801": "0671234567", "802": "0502223344"}[ext]
			wg.Go(func() {
				p, err := c.Originate(t.Context(), clickToCall(ext, number)...)
				if err != nil {
					t.Error(err)
					return
				}
				m, err := p.Result(ctxTimeout(t))
				if err != nil {
					t.Error(err)
					return
				}
				if m.Get("Uniqueid") != want[ext] || m.Get("CallerIDNum") != ext {
					t.Errorf("%s got the result %q", ext, m)
				}
			})
		}
		wg.Wait()
	})
	t.Run("ErrInvalidHeader", func(t *testing.T) {
		srv := amitest.Start(t, "testdata/originate_answered.json")
		c := run(t, srv, "celbridge", secret, nil)
		h := clickToCall("801", "0671234567\r\nAction: Command\r\nCommand: core restart now")
		if _, err := c.Originate(t.Context(), h...); !errors.Is(err, ami.ErrInvalidHeader) {
			t.Fatalf("err = %v, want ErrInvalidHeader", err)
		}
		// The valid action that follows is the one the capture has: nothing else got through.
		p, err := c.Originate(t.Context(), clickToCall("801", "0671234567")...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Result(ctxTimeout(t)); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.Received()); n != 2 {
			t.Fatalf("server got %d messages, want Login and one Originate", n)
		}
	})
}

// TestClient_Reconnect: Asterisk restarts (EOF without warning, connects refused for a
// while); the client logs in again by itself and works on the new connection.
func TestClient_Reconnect(t *testing.T) {
	srv := amitest.Start(t, "testdata/server_restart.json")
	var logs syncWriter
	c := run(t, srv, "celbridge", secret, &logs)
	ctx := ctxTimeout(t)
	for {
		if len(srv.Received()) >= 2 { // the second Login
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no second login; got %q", srv.Received())
		case <-time.After(10 * time.Millisecond):
		}
	}
	var m ami.Message
	var err error
	for {
		if m, err = c.Action(ctx, "Ping"); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("ping after reconnect: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if m.Get("Ping") != "Pong" {
		t.Fatalf("Ping answer %q", m)
	}
	if strings.Contains(logs.String(), secret) {
		t.Fatalf("the log shows the secret:\n%s", logs.String())
	}
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
