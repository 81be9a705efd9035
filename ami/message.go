// Package ami is a small client for Asterisk's Manager Interface (AMI), enough for
// click-to-call: log in, send actions and match their responses by ActionID, receive events
// (OriginateResponse above all), and reconnect with backoff when Asterisk restarts.
//
// The wire rules it follows were read off real transcripts (testdata/, from
// ../shared/testdata/ami): a one-line banner, then messages of "Key: Value\r\n" lines ended by
// an empty line, split across and shared between TCP reads; an event is a message with an
// Event header (OriginateResponse also has a Response header, so the Event header decides).
package ami

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Header is one "Key: Value" line of a message.
type Header struct {
	Key, Value string
}

// Message is one AMI message, its headers in wire order.
type Message []Header

// Get returns the value of the first header named key (case-insensitive), or "".
func (m Message) Get(key string) string {
	for _, h := range m {
		if strings.EqualFold(h.Key, key) {
			return h.Value
		}
	}
	return ""
}

// Has reports whether m has a header named key.
func (m Message) Has(key string) bool {
	for _, h := range m {
		if strings.EqualFold(h.Key, key) {
			return true
		}
	}
	return false
}

// IsEvent reports whether m is an event (it has an Event header), not a response.
func (m Message) IsEvent() bool { return m.Has("Event") }

// ErrInvalidHeader is returned by Client.Action and Encode for a header whose key is not a
// plain token or whose value holds CR, LF or another control character: such a value could
// end the message early and smuggle headers or a second action into the connection.
var ErrInvalidHeader = errors.New("invalid AMI header")

// Encode writes m in wire form. It refuses any header that could break the framing.
func (m Message) Encode() ([]byte, error) {
	var b strings.Builder
	for _, h := range m {
		if err := checkHeader(h); err != nil {
			return nil, err
		}
		b.WriteString(h.Key)
		b.WriteString(": ")
		b.WriteString(h.Value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String()), nil
}

func checkHeader(h Header) error {
	if h.Key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidHeader)
	}
	for i := 0; i < len(h.Key); i++ {
		c := h.Key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("%w: key %q", ErrInvalidHeader, h.Key)
		}
	}
	for i := 0; i < len(h.Value); i++ {
		if c := h.Value[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: value of %s holds a control character", ErrInvalidHeader, h.Key)
		}
	}
	return nil
}

// Limits on what is read, so that a broken or hostile peer cannot make the reader buffer
// without end.
const (
	maxLine    = 8 << 10
	maxHeaders = 512
)

// readBanner reads the greeting line ("Asterisk Call Manager/11.0.0").
func readBanner(r *bufio.Reader) (string, error) {
	line, err := readLine(r)
	if err != nil {
		return "", fmt.Errorf("read banner: %w", err)
	}
	if !strings.HasPrefix(line, "Asterisk Call Manager/") {
		return "", fmt.Errorf("read banner: %q is not an Asterisk Manager Interface (is the address the AMI port, 5038?)", trunc(line))
	}
	return line, nil
}

// ReadMessage reads one message: header lines up to an empty line. Empty lines before a
// message are skipped; a line without a colon is kept as a header with an empty value.
func ReadMessage(r *bufio.Reader) (Message, error) {
	var m Message
	for {
		line, err := readLine(r)
		if err != nil {
			if errors.Is(err, io.EOF) && len(m) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if line == "" {
			if len(m) == 0 {
				continue
			}
			return m, nil
		}
		if len(m) == maxHeaders {
			return nil, fmt.Errorf("message with more than %d headers", maxHeaders)
		}
		k, v, _ := strings.Cut(line, ":")
		m = append(m, Header{Key: k, Value: strings.TrimPrefix(v, " ")})
	}
}

// readLine reads one line without its CRLF (or bare LF).
func readLine(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, chunk...)
		if len(b) > maxLine {
			return "", fmt.Errorf("line longer than %d bytes", maxLine)
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

func trunc(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
