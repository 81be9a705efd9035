package ami

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadMessage: framing as the captures show it, read one byte at a time (the worst
// split a TCP stream can make): the banner is a line, empty values are kept, an
// OriginateResponse is an event though it has a Response header.
func TestReadMessage(t *testing.T) {
	stream := "Asterisk Call Manager/11.0.0\r\n" +
		"Response: Success\r\nActionID: ping-1\r\nPing: Pong\r\n\r\n" +
		"Event: ExtensionStatus\r\nPrivilege: call,all\r\nHint: \r\nStatus: 0\r\n\r\n" +
		"Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: c2c-1\r\nResponse: Failure\r\n\r\n"
	r := bufio.NewReader(iotest.OneByteReader(strings.NewReader(stream)))
	if b, err := readBanner(r); err != nil || b != "Asterisk Call Manager/11.0.0" {
		t.Fatalf("banner %q, %v", b, err)
	}
	var got []Message
	for {
		m, err := ReadMessage(r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if len(got) != 3 || got[0].IsEvent() || got[0].Get("ping") != "Pong" {
		t.Fatalf("messages %q", got)
	}
	if !got[1].Has("Hint") || got[1].Get("Hint") != "" || !got[2].IsEvent() {
		t.Fatalf("messages %q", got)
	}
}

func TestReadMessage_Limits(t *testing.T) {
	long := "Key: " + strings.Repeat("x", maxLine) + "\r\n\r\n"
	if _, err := ReadMessage(bufio.NewReader(strings.NewReader(long))); err == nil {
		t.Fatal("a line over the limit was read")
	}
	many := strings.Repeat("K: v\r\n", maxHeaders+1) + "\r\n"
	if _, err := ReadMessage(bufio.NewReader(strings.NewReader(many))); err == nil {
		t.Fatal("a message over the header limit was read")
	}
	if _, err := readBanner(bufio.NewReader(strings.NewReader("SSH-2.0-OpenSSH_9.2\r\n"))); err == nil {
		t.Fatal("an SSH banner was taken for AMI")
	}
}

func TestEncode_Injection(t *testing.T) {
	for _, h := range []Header{
		{"Exten", "0671234567\r\nAction: Command"}, {"Exten", "1\n"}, {"Exten", "a\x00b"},
		{"Bad Key", "v"}, {"", "v"}, {"Key:", "v"},
	} {
		if _, err := (Message{h}).Encode(); !errors.Is(err, ErrInvalidHeader) {
			t.Errorf("%q: err %v, want ErrInvalidHeader", h, err)
		}
	}
	b, err := Message{{"Action", "Ping"}, {"ActionID", "x-1"}, {"Empty", ""}}.Encode()
	if err != nil || string(b) != "Action: Ping\r\nActionID: x-1\r\nEmpty: \r\n\r\n" {
		t.Fatalf("%q, %v", b, err)
	}
}
