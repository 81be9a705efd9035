package callapi

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/ami"
)

// Originator places a call through Asterisk (ami.Client).
type Originator interface {
	Originate(ctx context.Context, headers ...ami.Header) (*ami.Origination, error)
}

// phoneNumber is what click-to-call dials: digits, an optional leading +.
var phoneNumber = regexp.MustCompile(`^\+?[0-9]{2,20}$`)

// extension is what any extension must look like, whatever pbx.extension_pattern allows:
// it goes into a channel name.
var extension = regexp.MustCompile(`^[0-9]{1,12}$`)

// extToPhone answers {"ext_number", "phone_number"}: ring the employee's phone, and when they
// pick up, dial the number, as FreePBX's own click-to-call (UCP) does: Local/<ext>@originate-
// skipvm (an unanswered desk phone does not fall to voicemail), then the number in
// from-internal through the outbound routes. Both values are checked before AMI sees them.
func (s *Server) extToPhone(ctx context.Context, p object) (object, error) {
	if s.Originator == nil {
		return nil, refuse(http.StatusServiceUnavailable, codeUnavailable, "c2c_off", "click-to-call is off on this PBX")
	}
	ext, ok1 := textParam(p, "ext_number")
	number, ok2 := textParam(p, "phone_number")
	if !ok1 || !extension.MatchString(ext) || s.Extension == nil || !s.Extension(ext) {
		return nil, refuse(http.StatusBadRequest, codeBadParam, "bad_extension", "ext_number is not a known extension")
	}
	if !ok2 || !phoneNumber.MatchString(number) {
		return nil, refuse(http.StatusBadRequest, codeBadParam, "bad_number", "phone_number must be digits with an optional leading +")
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	orig, err := s.Originator.Originate(actx,
		ami.Header{Key: "Channel", Value: "Local/" + ext + "@originate-skipvm"},
		ami.Header{Key: "Exten", Value: number},
		ami.Header{Key: "Context", Value: "from-internal"},
		ami.Header{Key: "Priority", Value: "1"},
		ami.Header{Key: "Async", Value: "true"},
		ami.Header{Key: "CallerID", Value: "UCP <" + ext + ">"},
	)
	if err != nil {
		s.Logger.Warn("api: click-to-call not placed", "ext", ext, "err", err)
		return nil, refuse(http.StatusServiceUnavailable, codeUnavailable, "ami", "the PBX did not take the call; try again")
	}
	s.Logger.Info("api: click-to-call queued", "ext", ext, "number", number)
	go s.outcome(orig, ext)
	return object{}, nil
}

// outcome logs how a click-to-call ended: the employee answered (the call goes on under its
// linkedid, pushed like any outgoing call) or not.
func (s *Server) outcome(p *ami.Origination, ext string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := p.Result(ctx)
	switch {
	case err != nil:
		s.Logger.Warn("api: click-to-call outcome unknown", "ext", ext, "err", err)
	case m.Get("Response") == "Success":
		s.Logger.Info("api: click-to-call answered by the employee", "ext", ext,
			"generalCallID", celbridge.DigitsOnly(m.Get("Uniqueid")))
	default:
		s.Logger.Info("api: click-to-call not answered by the employee", "ext", ext, "reason", safe(m.Get("Reason")))
	}
}

// textParam reads a parameter given as a JSON string or number.
func textParam(p object, name string) (string, bool) {
	v, _ := p.get(name)
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return string(v), true
	}
	return "", false
}
