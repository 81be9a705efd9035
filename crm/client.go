// Package crm delivers Binotel-format call events to the CRM: Client sends one event as a
// form-encoded POST, and Dispatcher drains the store's outbox with retries, strict order within
// a call and parallelism across calls.
package crm

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/celbridge/celbridge"
)

// DefaultTimeout is the per-request timeout used when Client.Timeout is zero.
const DefaultTimeout = 10 * time.Second

const (
	contentType = "application/x-www-form-urlencoded; charset=utf-8"
	// maxDrain bounds how much of a response body is read before the connection is reused;
	// a longer body costs the connection instead of an unbounded read.
	maxDrain = 64 << 10
	// maxErrBody is how much of a non-2xx body a StatusError keeps.
	maxErrBody = 512
)

// Client pushes events to the CRM's Binotel endpoint
// (POST https://<crm>/api/Binotel/Push). The zero value is not usable: set URL. A Client is
// safe for concurrent use; do not change its fields after the first Push.
type Client struct {
	// URL is the endpoint. Userinfo and query values are redacted in every error.
	URL string
	// CompanyID is sent as companyID; omitted when empty.
	CompanyID string
	// Headers are added to every request (e.g. Authorization). Their values are secrets: they
	// are never logged nor put in errors, and a CRM echoing one gets it replaced (see Redact).
	Headers map[string]string
	// HTTP is the client used; nil means a shared client that follows redirects only to the
	// same host, so Headers never reach another server.
	HTTP *http.Client
	// Timeout bounds one request, response body included; zero means DefaultTimeout.
	Timeout time.Duration
	// Version goes into the User-Agent "celbridge/<Version>"; empty means "dev".
	Version string

	once sync.Once
	dflt *http.Client

	redOnce sync.Once
	red     *redactor
}

// Validate checks that URL is an absolute http(s) URL, without revealing it in the error.
func (c *Client) Validate() error {
	_, err := c.endpoint()
	return err
}

// Push sends e and returns nil when the CRM answered 2xx. A non-2xx answer is returned as a
// *StatusError (IsPermanent tells whether retrying can help); network errors and timeouts are
// returned wrapped, with the URL redacted.
func (c *Client) Push(ctx context.Context, e celbridge.Event) error {
	u, err := c.endpoint()
	if err != nil {
		return err
	}
	timeout := c.timeout()
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := c.newRequest(rctx, u, e)
	if err != nil {
		return err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return c.hideSecrets(transportError(ctx, u, timeout, err))
	}
	return c.readResponse(resp)
}

// Redact returns s with the client's secrets replaced by "[redacted]": every header value
// (and the credentials part of "Bearer x" or "Basic x"), the URL's password and the values of
// query parameters named like a secret (token, key, secret, password, sig…), also when s has
// them URL-, HTML- or JSON-escaped or in another case. Values shorter than 4 bytes are left
// alone: they would match ordinary text. Push already redacts its errors; Redact is for text
// stored by older versions.
func (c *Client) Redact(s string) string {
	return c.redactor().redact(s)
}

func (c *Client) redactor() *redactor {
	c.redOnce.Do(func() {
		u, _ := url.Parse(c.URL)
		c.red = newRedactor(u, c.Headers)
	})
	return c.red
}

// hideSecrets returns err with its text redacted; errors.Is and errors.As still see err.
func (c *Client) hideSecrets(err error) error {
	msg := err.Error()
	if shown := c.Redact(msg); shown != msg {
		return &redactedError{msg: shown, err: err}
	}
	return err
}

// redactedError shows a redacted text for an error it wraps.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// newRequest builds the POST for e: ordered Binotel fields, Idempotency-Key and headers.
func (c *Client) newRequest(ctx context.Context, u *url.URL, e celbridge.Event) (*http.Request, error) {
	body := celbridge.EncodeForm(e.Fields(c.CompanyID))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(body))
	if err != nil {
		// The error text of NewRequest may quote the URL; do not pass it on.
		return nil, fmt.Errorf("build request for %s: invalid request", RedactURL(u))
	}
	for name, value := range c.Headers {
		req.Header.Set(name, value)
	}
	req.Header.Set("Content-Type", contentType)
	// The key holds the generalCallID, which crm.call_id = "linkedid" sends as CEL has it: a
	// control character there would make every attempt fail before it is sent.
	req.Header.Set("Idempotency-Key", celbridge.WireText(e.IdempotencyKey()))
	req.Header.Set("User-Agent", "celbridge/"+c.version())
	return req, nil
}

// readResponse turns the CRM's answer into nil or a *StatusError, and always drains (bounded)
// and closes the body so the connection can be reused.
func (c *Client) readResponse(resp *http.Response) error {
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		return nil
	}
	red := c.redactor()
	// Read past maxErrBody by the longest secret, so that one starting before the cut is
	// found whole and hidden whole.
	head, _ := io.ReadAll(io.LimitReader(resp.Body, int64(maxErrBody+red.longest)))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	se := &StatusError{Code: resp.StatusCode, Body: errorBody(red, head)}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if loc, err := resp.Location(); err == nil {
			se.Location = errorBody(red, []byte(RedactURL(loc)))
		}
	}
	return se
}

// errorBody makes the start of a body fit for a log line, the outbox's last_error and a
// terminal: the client's secrets are replaced, then control characters, and the text is cut
// to one line of at most maxErrBody bytes.
func errorBody(red *redactor, b []byte) string {
	s := oneLine(printable(red.redactPrefix(string(b), maxErrBody)))
	if len(s) > maxErrBody {
		cut := maxErrBody
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// transportError wraps a failed Do: it drops *url.Error (whose text carries the URL, with the
// username) and says when our own timeout fired, that is, not the caller's ctx.
func transportError(ctx context.Context, u *url.URL, timeout time.Duration, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("post %s: no answer within %s (raise crm.timeout if the CRM is slow): %w", RedactURL(u), timeout, err)
	}
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return fmt.Errorf("post %s: the CRM's TLS certificate is not accepted (run celbridge check for details): %w", RedactURL(u), err)
	}
	return fmt.Errorf("post %s: %w", RedactURL(u), err)
}

// endpoint parses URL. Parse errors quote the raw URL, so they are replaced, not wrapped.
func (c *Client) endpoint() (*url.URL, error) {
	if c.URL == "" {
		return nil, errors.New("crm url is empty (set crm.url)")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, errors.New("crm url does not parse (check crm.url; the value is not shown because it may hold a secret)")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("crm url %s is not an absolute http(s) URL (set crm.url like https://clinic.example.com/api/Binotel/Push)", RedactURL(u))
	}
	return u, nil
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) version() string {
	if c.Version != "" {
		return c.Version
	}
	return "dev"
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	c.once.Do(func() { c.dflt = newHTTPClient() })
	return c.dflt
}

// newHTTPClient keeps enough idle connections for parallel pushes and follows no redirect:
// on 301/302/303 net/http would turn the POST into a GET without the form, and a 2xx to that
// would count as delivered although the CRM never got the call; to another host it would
// also forward custom headers (a token). A 3xx comes back as a *StatusError naming where it
// points.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// RedactURL renders u for logs and errors: userinfo is dropped and query values are replaced
// by "xxxxx", since either may carry a credential.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := *u
	r.User = nil
	if r.RawQuery != "" {
		q := r.Query()
		for k := range q {
			q[k] = []string{"xxxxx"}
		}
		r.RawQuery = q.Encode()
	}
	return r.String()
}
