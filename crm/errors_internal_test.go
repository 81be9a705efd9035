package crm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"
)

func TestErrClass(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&StatusError{Code: 503, Body: "a"}, "HTTP 503"},
		{fmt.Errorf("x: %w", &StatusError{Code: 503, Body: "b"}), "HTTP 503"},
		{fmt.Errorf("post: %w", context.DeadlineExceeded), "timeout"},
		{&net.OpError{Op: "dial", Err: fmt.Errorf("connect: %w", syscall.ECONNREFUSED)}, "connection refused"},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, "connection reset"},
		{&net.DNSError{Err: "no such host", Name: "crm.invalid"}, "dns"},
		{errors.New("EOF"), "network"},
	}
	for _, tt := range tests {
		if got := errClass(tt.err); got != tt.want {
			t.Errorf("errClass(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestThrottle(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := newThrottle(30 * time.Second)
	if ok, _ := th.success(t0); ok {
		t.Error("recovery logged without a failure")
	}
	steps := []struct {
		at         time.Duration
		class      string // "" = success
		log        bool
		suppressed int
	}{
		{0, "HTTP 500", true, 0},
		{time.Second, "HTTP 500", false, 0},
		{2 * time.Second, "timeout", true, 0}, // another class is another failure
		{29 * time.Second, "HTTP 500", false, 0},
		{30 * time.Second, "HTTP 500", true, 2},
		{31 * time.Second, "HTTP 500", false, 0},
		{32 * time.Second, "", true, 1}, // recovery reports what was left out
		{33 * time.Second, "", false, 0},
		{34 * time.Second, "HTTP 500", false, 0}, // still within 30s of its last line
		{35 * time.Second, "", false, 0},         // recoveries too, at most one per 30s
		{62 * time.Second, "", true, 1},
	}
	for _, s := range steps {
		var ok bool
		var n int
		if s.class == "" {
			ok, n = th.success(t0.Add(s.at))
		} else {
			ok, n = th.failure(s.class, t0.Add(s.at))
		}
		if ok != s.log || n != s.suppressed {
			t.Errorf("at %v %q: got (%v, %d), want (%v, %d)", s.at, s.class, ok, n, s.log, s.suppressed)
		}
	}
}
