package ami

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrAuth is returned when Asterisk refuses the login. Asterisk does not say whether the
// user or the secret was wrong, and closes the connection after a one-second pause.
var ErrAuth = errors.New("AMI login refused (check ami.username and ami.secret against a [user] in FreePBX's manager.conf / Asterisk Manager Users, and its permit= addresses)")

// ErrDisconnected is returned for an action, or an originate's result, that had no answer yet when
// the connection ended: Asterisk replays nothing after a reconnect, so its outcome is lost.
var ErrDisconnected = errors.New("AMI connection lost")

// conn is one logged-in connection: a reader goroutine routes responses to the actions
// waiting for them (by ActionID) and events to the originates waiting for their result.
type conn struct {
	nc  net.Conn
	br  *bufio.Reader
	seq *atomic.Uint64

	wmu sync.Mutex // one message on the wire at a time

	mu         sync.Mutex
	responses  map[string]chan Message
	originates map[string]chan Message
	err        error
	done       chan struct{}
	onEvent    func(Message)
}

// dialLogin connects to addr, reads the banner and logs in. events chooses the login's
// Events header: "on" to receive OriginateResponse, "off" for a bare check.
func dialLogin(ctx context.Context, dial func(ctx context.Context, network, addr string) (net.Conn, error),
	addr, user, secret, events string, seq *atomic.Uint64) (*conn, error) {
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to AMI at %s: %w", addr, err)
	}
	c := &conn{nc: nc, br: bufio.NewReaderSize(nc, 16<<10), seq: seq,
		responses: map[string]chan Message{}, originates: map[string]chan Message{}, done: make(chan struct{})}
	// Login is done before the reader starts; a stuck server must not hold us for ever.
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	nc.SetDeadline(deadline)
	if err := c.login(user, secret, events); err != nil {
		nc.Close()
		return nil, fmt.Errorf("log in to AMI at %s as %q: %w", addr, user, err)
	}
	nc.SetDeadline(time.Time{})
	return c, nil
}

func (c *conn) login(user, secret, events string) error {
	if _, err := readBanner(c.br); err != nil {
		return err
	}
	id := c.nextID("login")
	msg := Message{{"Action", "Login"}, {"ActionID", id}, {"Username", user}, {"Secret", secret}, {"Events", events}}
	b, err := msg.Encode()
	if err != nil {
		return errors.New("username or secret holds a control character")
	}
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("send Login: %w", err)
	}
	for {
		m, err := ReadMessage(c.br)
		if err != nil {
			return fmt.Errorf("read Login response: %w", err)
		}
		if m.IsEvent() || m.Get("ActionID") != id {
			continue
		}
		if m.Get("Response") != "Success" {
			return ErrAuth
		}
		return nil
	}
}

func (c *conn) nextID(kind string) string {
	return "celbridge-" + kind + "-" + strconv.FormatUint(c.seq.Add(1), 10)
}

// readLoop routes every message until the connection ends, then fails whatever waits.
func (c *conn) readLoop() {
	var err error
	for {
		var m Message
		if m, err = ReadMessage(c.br); err != nil {
			break
		}
		c.route(m)
	}
	c.mu.Lock()
	c.err = fmt.Errorf("%w: %v", ErrDisconnected, err)
	for id, ch := range c.responses {
		close(ch)
		delete(c.responses, id)
	}
	for id, ch := range c.originates {
		close(ch)
		delete(c.originates, id)
	}
	c.mu.Unlock()
	close(c.done)
}

func (c *conn) route(m Message) {
	id := m.Get("ActionID")
	c.mu.Lock()
	var ch chan Message
	if m.IsEvent() {
		if m.Get("Event") == "OriginateResponse" && id != "" {
			ch = c.originates[id]
			delete(c.originates, id)
		}
	} else if id != "" {
		ch = c.responses[id]
		delete(c.responses, id)
	}
	onEvent := c.onEvent
	c.mu.Unlock()
	if ch != nil {
		ch <- m // buffered, one message per channel
	}
	if m.IsEvent() && onEvent != nil {
		onEvent(m)
	}
}

// action sends msg (its ActionID set here) and waits for the response. When originate is
// true, the originate's later OriginateResponse is delivered on the returned channel.
func (c *conn) action(ctx context.Context, name string, headers []Header, originate bool) (Message, <-chan Message, error) {
	id := c.nextID(name)
	msg := append(Message{{"Action", name}, {"ActionID", id}}, headers...)
	b, err := msg.Encode()
	if err != nil {
		return nil, nil, err
	}
	resp := make(chan Message, 1)
	var result chan Message
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, nil, c.err
	}
	c.responses[id] = resp
	if originate {
		result = make(chan Message, 1)
		c.originates[id] = result
	}
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.responses, id)
		delete(c.originates, id)
		c.mu.Unlock()
	}
	c.wmu.Lock()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err = c.nc.Write(b)
	c.wmu.Unlock()
	if err != nil {
		forget()
		c.nc.Close()
		return nil, nil, fmt.Errorf("send %s: %w", name, err)
	}
	select {
	case m, ok := <-resp:
		if !ok {
			return nil, nil, c.closedErr()
		}
		if m.Get("Response") != "Success" {
			forget()
			return m, nil, fmt.Errorf("AMI %s refused: %s", name, sanitize(m.Get("Message")))
		}
		return m, result, nil
	case <-ctx.Done():
		forget()
		return nil, nil, fmt.Errorf("wait for the %s response: %w", name, ctx.Err())
	}
}

func (c *conn) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	return ErrDisconnected
}

// close ends the connection, politely (Logoff) when it still works.
func (c *conn) close() {
	select {
	case <-c.done:
	default:
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.action(ctx, "Logoff", nil, false) // Goodbye, then Asterisk closes
		cancel()
	}
	c.nc.Close()
	<-c.done
}

// sanitize keeps a server's text fit for a log line.
func sanitize(s string) string {
	b := []byte(trunc(s))
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}
