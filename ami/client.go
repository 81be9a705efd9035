package ami

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Client keeps one logged-in AMI connection up while Run runs, and sends actions over it.
// Set the exported fields before Run; they are not changed afterwards.
type Client struct {
	// Addr is host:port of the AMI (FreePBX: 127.0.0.1:5038).
	Addr string
	// Username and Secret are an AMI user's (FreePBX: Settings > Asterisk Manager Users),
	// with the originate and call permissions. Secret is never logged.
	Username, Secret string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// OnEvent, when set, is called (from the reader goroutine) with every event.
	OnEvent func(Message)
	// Dial defaults to a net.Dialer with a 5s timeout.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// BackoffMin and BackoffMax bound the wait between connection attempts (default 250ms
	// and 30s). After a refused login the wait is BackoffMax at once: Asterisk logs every
	// failed login, and FreePBX's intrusion detection bans an address that keeps failing.
	BackoffMin, BackoffMax time.Duration
	// PingInterval is how often an idle connection is checked with Ping (default 30s).
	PingInterval time.Duration

	seq  atomic.Uint64
	mu   sync.Mutex
	conn *conn
	up   chan struct{} // closed while a connection is up; replaced when it goes down
}

// ErrNotConnected is returned by Action and Originate when no connection came up before
// their context ended.
var ErrNotConnected = errors.New("not connected to the AMI")

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

func (c *Client) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if c.Dial != nil {
		return c.Dial
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	return d.DialContext
}

// Run connects, logs in and keeps the connection up until ctx is cancelled, reconnecting
// with exponential backoff and jitter. It returns nil when ctx is cancelled.
func (c *Client) Run(ctx context.Context) error {
	lo, hi := c.BackoffMin, c.BackoffMax
	if lo <= 0 {
		lo = 250 * time.Millisecond
	}
	if hi < lo {
		hi = max(30*time.Second, lo)
	}
	wait, failures := lo, 0
	for ctx.Err() == nil {
		cn, err := dialLogin(ctx, c.dialer(), c.Addr, c.Username, c.Secret, "on", &c.seq)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			failures++
			if errors.Is(err, ErrAuth) {
				wait = hi
			}
			c.logger().Warn("AMI connection failed; retrying", "addr", c.Addr, "attempt", failures,
				"retry_in", wait.Round(time.Millisecond), "err", err)
			if !sleep(ctx, jitter(wait)) {
				break
			}
			wait = min(wait*2, hi)
			continue
		}
		if failures > 0 {
			c.logger().Info("AMI connected again", "addr", c.Addr, "after_attempts", failures)
		} else {
			c.logger().Info("AMI connected", "addr", c.Addr)
		}
		wait, failures = lo, 0
		c.serve(ctx, cn)
		if ctx.Err() == nil {
			c.logger().Warn("AMI connection lost; reconnecting (the outcomes of click-to-calls not yet answered are lost)", "addr", c.Addr, "err", cn.closedErr())
			if !sleep(ctx, jitter(lo)) {
				break
			}
		}
	}
	return nil
}

// serve publishes cn and pings it until it ends or ctx is cancelled.
func (c *Client) serve(ctx context.Context, cn *conn) {
	cn.onEvent = c.OnEvent
	go cn.readLoop()
	c.setConn(cn)
	defer c.setConn(nil)
	every := c.PingInterval
	if every <= 0 {
		every = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			cn.close()
			return
		case <-cn.done:
			cn.nc.Close()
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, _, err := cn.action(pctx, "Ping", nil, false)
			cancel()
			if err != nil && ctx.Err() == nil {
				cn.nc.Close() // half-open: the reader sees the close and fails the waiters
			}
		}
	}
}

func (c *Client) setConn(cn *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn = cn
	if c.up == nil {
		c.up = make(chan struct{})
	}
	if cn != nil {
		close(c.up)
	} else {
		c.up = make(chan struct{})
	}
}

// WaitConnected blocks until a connection is up or ctx ends.
func (c *Client) WaitConnected(ctx context.Context) error {
	_, err := c.current(ctx)
	return err
}

// current returns the connection, waiting for one while ctx lasts: an action sent while
// the client reconnects (Asterisk restarting) goes out once it is logged in again.
func (c *Client) current(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		if c.up == nil {
			c.up = make(chan struct{})
		}
		cn, up := c.conn, c.up
		c.mu.Unlock()
		if cn != nil {
			return cn, nil
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrNotConnected, ctx.Err())
		}
	}
}

// Action sends the action name with headers (ActionID is added) and returns Asterisk's
// response. A response other than Success is an error that carries its Message.
func (c *Client) Action(ctx context.Context, name string, headers ...Header) (Message, error) {
	cn, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	m, _, err := cn.action(ctx, name, headers, false)
	return m, err
}

// Origination is an Originate that Asterisk queued; its outcome comes later.
type Origination struct {
	result <-chan Message
}

// Result waits for the OriginateResponse event: Response Success (the first leg answered;
// Uniqueid is then the call's linkedid) or Failure (Reason says why, as a hint). It returns
// ErrDisconnected when the connection ended first.
func (p *Origination) Result(ctx context.Context) (Message, error) {
	select {
	case m, ok := <-p.result:
		if !ok {
			return nil, ErrDisconnected
		}
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Originate sends an Originate with headers and returns once Asterisk has queued it. It is
// always asynchronous: "Async: true" is added unless headers hold an Async header.
func (c *Client) Originate(ctx context.Context, headers ...Header) (*Origination, error) {
	cn, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	if !Message(headers).Has("Async") {
		headers = append(headers, Header{"Async", "true"})
	}
	_, result, err := cn.action(ctx, "Originate", headers, true)
	if err != nil {
		return nil, err
	}
	return &Origination{result: result}, nil
}

// Check logs in once (with events off), pings and logs off: what `celbridge check` does.
func Check(ctx context.Context, addr, user, secret string) error {
	var seq atomic.Uint64
	d := &net.Dialer{Timeout: 5 * time.Second}
	cn, err := dialLogin(ctx, d.DialContext, addr, user, secret, "off", &seq)
	if err != nil {
		return err
	}
	go cn.readLoop()
	_, _, err = cn.action(ctx, "Ping", nil, false)
	cn.close()
	if err != nil {
		return fmt.Errorf("ping AMI at %s: %w", addr, err)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// jitter spreads d by ±20%, so that many clients do not reconnect in step.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}
