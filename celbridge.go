// Package celbridge holds the domain types shared by every part of celbridge: a CEL row as
// FreePBX stores it, and the Binotel-format event that the CRM receives. It imports nothing
// of ours; poller, mapper, store and crm all depend on it and never on each other.
package celbridge

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrInternal is wrapped by an error that is a bug in celbridge, not bad data: the mapper
// panicked on a row (it recovers, skips the row and says where). Callers count it apart from
// malformed rows and log it as an error to report.
var ErrInternal = errors.New("internal error (a bug in celbridge; please report it)")

// CELRow is one row of FreePBX's asteriskcdrdb.cel table. Text columns that are NULL in the
// database arrive as "". EventTime is the row's eventtime read in mysql.timezone; it is the
// zero time when the column held no valid date.
type CELRow struct {
	ID          int64     `json:"id" db:"id"`
	EventType   string    `json:"eventtype" db:"eventtype"`
	EventTime   time.Time `json:"eventtime" db:"eventtime"`
	CIDName     string    `json:"cid_name,omitempty" db:"cid_name"`
	CIDNum      string    `json:"cid_num,omitempty" db:"cid_num"`
	CIDANI      string    `json:"cid_ani,omitempty" db:"cid_ani"`
	CIDRDNIS    string    `json:"cid_rdnis,omitempty" db:"cid_rdnis"`
	CIDDNID     string    `json:"cid_dnid,omitempty" db:"cid_dnid"`
	Exten       string    `json:"exten,omitempty" db:"exten"`
	Context     string    `json:"context,omitempty" db:"context"`
	ChanName    string    `json:"channame" db:"channame"`
	AppName     string    `json:"appname,omitempty" db:"appname"`
	AppData     string    `json:"appdata,omitempty" db:"appdata"`
	AccountCode string    `json:"accountcode,omitempty" db:"accountcode"`
	UniqueID    string    `json:"uniqueid" db:"uniqueid"`
	LinkedID    string    `json:"linkedid" db:"linkedid"`
	Peer        string    `json:"peer,omitempty" db:"peer"`
	UserDefType string    `json:"userdeftype,omitempty" db:"userdeftype"`
	Extra       string    `json:"extra,omitempty" db:"extra"`
}

// Request types, Binotel's requestType values.
const (
	Received    = "receivedTheCall"
	Answered    = "answeredTheCall"
	Transferred = "transferredTheCall"
	Hangup      = "hangupTheCall"
)

// Call types, Binotel's callType values.
const (
	Incoming = 0
	Outgoing = 1
)

// Dispositions sent in hangupTheCall.
const (
	DispAnswer      = "ANSWER"
	DispNoAnswer    = "NOANSWER"
	DispCancel      = "CANCEL"
	DispBusy        = "BUSY"
	DispChanUnavail = "CHANUNAVAIL"
	DispCongestion  = "CONGESTION"
	DispVoicemail   = "VM"
	DispTransfer    = "TRANSFER"
)

// DispVoicemailMessage is the call details' disposition of a voicemail call with a message
// (Binotel's VM-SUCCESS); the push says DispVoicemail either way (DESIGN §1).
const DispVoicemailMessage = "VM-SUCCESS"

// Event is one state a call reached, as the CRM will receive it. The mapper fills it in;
// Fields turns it into the ordered form fields of DESIGN §1.
type Event struct {
	// LinkedID is the Asterisk linkedid of the call (the CEL grouping key).
	LinkedID string `json:"linkedid"`
	// GeneralCallID is the id sent to the CRM, the same for every event of the call.
	GeneralCallID string `json:"generalCallID"`
	// RequestType is one of Received, Answered, Transferred, Hangup.
	RequestType string `json:"requestType"`
	// Seq tells apart repeated events of one type within a call (transferredTheCall 1, 2, …);
	// it is 0 for the others.
	Seq int `json:"seq,omitempty"`
	// CallType is Incoming or Outgoing.
	CallType int `json:"callType"`

	DIDNumber      string `json:"didNumber,omitempty"`
	ExternalNumber string `json:"externalNumber,omitempty"`
	InternalNumber string `json:"internalNumber,omitempty"`
	Billsec        int    `json:"billsec,omitempty"`
	Disposition    string `json:"disposition,omitempty"`
	// Recording is the call's MixMonitor file as CEL names it (relative to the recordings
	// directory, or absolute), set on hangupTheCall only; it is never sent in a push.
	Recording string `json:"recording,omitempty"`
	// VoicemailMessage is set on the hangupTheCall of a call that went to voicemail when the
	// caller recorded a message there (the call details' VM-SUCCESS); never sent in a push.
	VoicemailMessage bool `json:"voicemailMessage,omitempty"`
	// Trunk is the trunk the call went through ("kyivstar" of PJSIP/kyivstar-…) and Tried the
	// lines it rang, in order (phones, and the group or queue they belong to); set on
	// hangupTheCall for the call details, never sent in a push.
	Trunk string   `json:"trunk,omitempty"`
	Tried []string `json:"tried,omitempty"`
	// CallStart is the time of the call's first CEL row (the caller's CHAN_START, before any
	// IVR), for the call details' startTime and waitsec; never sent in a push.
	CallStart time.Time `json:"callStart,omitzero"`

	// CELID is the id of the CEL row that decided this event; FirstCELID the first CEL id of
	// the call. Both are bookkeeping for the store and explain, never sent.
	CELID      int64     `json:"celID"`
	FirstCELID int64     `json:"firstCELID"`
	Time       time.Time `json:"time"`
	// Rule says in words why the event was produced (shown by explain, never sent).
	Rule string `json:"rule,omitempty"`
}

// Field is one form field; a slice of them keeps Binotel's field order, which url.Values loses.
type Field struct {
	Name, Value string
}

// Fields returns the form fields of e in the order DESIGN §1 gives. companyID is omitted when
// empty. Every value goes through WireText, so what explain shows is what the CRM gets.
func (e Event) Fields(companyID string) []Field {
	var f []Field
	add := func(name, value string) { f = append(f, Field{name, WireText(value)}) }
	ct := strconv.Itoa(e.CallType)
	switch e.RequestType {
	case Received, Answered:
		if e.CallType == Incoming {
			add("didNumber", e.DIDNumber)
		}
		add("externalNumber", e.ExternalNumber)
		add("internalNumber", e.InternalNumber)
		add("generalCallID", e.GeneralCallID)
		add("callType", ct)
	case Transferred:
		add("internalNumber", e.InternalNumber)
		add("generalCallID", e.GeneralCallID)
	case Hangup:
		add("generalCallID", e.GeneralCallID)
		add("billsec", strconv.Itoa(e.Billsec))
		add("disposition", e.Disposition)
	}
	if companyID != "" {
		add("companyID", companyID)
	}
	add("requestType", e.RequestType)
	return f
}

// IdempotencyKey is the value of the Idempotency-Key header and the outbox's unique key:
// <generalCallID>-<requestType>[-n].
func (e Event) IdempotencyKey() string {
	k := e.GeneralCallID + "-" + e.RequestType
	if e.Seq > 0 {
		k += "-" + strconv.Itoa(e.Seq)
	}
	return k
}

// WireText returns s fit to be sent to the CRM: each byte of invalid UTF-8 becomes U+FFFD and
// control characters are removed: C0 (NUL, ESC, CR, LF, TAB…), DEL and C1 (U+0080–U+009F,
// which some terminals read as ESC sequences). It is the last line of
// defence behind the mapper, which cleans numbers: a CEL field or a config value holding such
// bytes must not reach the CRM, where it could break a form parser, a log line or a screen.
// The CRM's form is declared UTF-8, so invalid bytes are replaced (and stay visible) rather
// than dropped; a control character carries nothing worth keeping.
func WireText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean { // the usual case: digits, ids and names in printable ASCII
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case unicode.IsControl(r): // C0, DEL, C1
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// EncodeForm encodes fields as application/x-www-form-urlencoded, keeping their order.
func EncodeForm(fields []Field) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(f.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(f.Value))
	}
	return b.String()
}

// DigitsOnly returns s with every non-digit removed: the default generalCallID of a linkedid
// ("1732600000.45" → "173260000045").
func DigitsOnly(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Delivery is one outbox entry due to be sent: the event, the outbox row's id and how many
// attempts were made before.
type Delivery struct {
	ID       int64
	Event    Event
	Attempts int
}
