package callapi

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// Call is one call of the call log, as the store keeps it.
type Call struct {
	GeneralCallID, LinkedID string
	CallType                int // 0 incoming, 1 outgoing
	StartedAt               time.Time
	AnsweredAt, EndedAt     time.Time // zero: not answered / still in progress
	DIDNumber               string
	ExternalNumber          string
	// ReceivedNumber is the line the call reached first (ring group, queue or phone);
	// AnsweredBy the extension that answered.
	ReceivedNumber, AnsweredBy string
	DstNumbers                 []string
	Billsec                    int
	Disposition                string // "" while in progress
	Recording                  string
	Trunk                      string
	IsNew                      bool
}

// CallLog finds calls by generalCallID; ids it does not hold are left out.
type CallLog interface {
	Calls(ctx context.Context, ids []string) ([]Call, error)
}

// maxIDs bounds one call-details request.
const maxIDs = 200

// callID is what a generalCallID may look like: digits, or a linkedid with its dot
// (crm.call_id = "linkedid").
var callID = regexp.MustCompile(`^[0-9]{1,20}(\.[0-9]{1,10})?$`)

// idParam reads one id parameter, a JSON number or string.
func idParam(v any) (string, bool) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = string(v)
	case string:
		s = v
	default:
		return "", false
	}
	return s, callID.MatchString(s)
}

// callDetails answers {"generalCallID": [id, …]}: "callDetails" maps each known id to the
// call's details; unknown ids are left out.
func (s *Server) callDetails(ctx context.Context, p object) (object, error) {
	raw, _ := p.get("generalCallID")
	list, ok := raw.([]any)
	if !ok {
		if raw == nil {
			return nil, refuse(http.StatusBadRequest, codeBadParam, "bad_param", "generalCallID is required: a list of call ids")
		}
		list = []any{raw}
	}
	if len(list) > maxIDs {
		return nil, refuse(http.StatusBadRequest, codeBadParam, "bad_param", "at most %d ids per request", maxIDs)
	}
	ids := make([]string, 0, len(list))
	for _, v := range list {
		id, ok := idParam(v)
		if !ok {
			return nil, refuse(http.StatusBadRequest, codeBadParam, "bad_param", "generalCallID holds a value that is not a call id")
		}
		ids = append(ids, id)
	}
	calls, err := s.Calls.Calls(ctx, ids)
	if err != nil {
		return nil, err
	}
	details := object{}
	for _, c := range calls {
		details = details.set(c.GeneralCallID, s.details(c))
	}
	return object{{"callDetails", details}}, nil
}

// details is one call in the fields of Binotel's call details (ids and seconds as strings,
// waitsec a number, as the guide's example has them).
func (s *Server) details(c Call) object {
	now := s.Now()
	internal, group := c.ReceivedNumber, ""
	if c.AnsweredBy != "" {
		internal = c.AnsweredBy
		if c.ReceivedNumber != c.AnsweredBy {
			group = c.ReceivedNumber
		}
	}
	src := c.ExternalNumber
	if c.CallType != 0 {
		src = internal
	}
	end := c.EndedAt
	if end.IsZero() {
		end = now
	}
	wait := end.Sub(c.StartedAt)
	if !c.AnsweredAt.IsZero() {
		wait = c.AnsweredAt.Sub(c.StartedAt)
	}
	if c.StartedAt.IsZero() {
		wait = 0
	}
	disp, billsec := c.Disposition, c.Billsec
	if disp == "" {
		disp = "ONLINE"
		if !c.AnsweredAt.IsZero() {
			billsec = int(now.Sub(c.AnsweredAt) / time.Second)
		}
	}
	var emp Employee
	if c.AnsweredBy != "" {
		emp = s.Employees[c.AnsweredBy]
	}
	isNew := "0"
	if c.IsNew {
		isNew = "1"
	}
	dst := c.DstNumbers
	if dst == nil {
		dst = []string{}
	}
	return object{
		{"companyID", s.CompanyID},
		{"generalCallID", c.GeneralCallID},
		{"callID", c.GeneralCallID},
		{"startTime", strconv.FormatInt(c.StartedAt.Unix(), 10)},
		{"callType", strconv.Itoa(c.CallType)},
		{"internalNumber", internal},
		{"internalAdditionalData", group},
		{"externalNumber", c.ExternalNumber},
		{"srcNumber", src},
		{"dstNumbers", dst},
		{"waitsec", max(int(wait/time.Second), 0)},
		{"billsec", strconv.Itoa(max(billsec, 0))},
		{"disposition", disp},
		{"isNewCall", isNew},
		{"did", c.DIDNumber},
		{"didNumber", c.DIDNumber},
		{"didName", s.DIDNames[c.DIDNumber]},
		{"trunkNumber", s.trunkNumber(c)},
		{"employeeName", emp.Name},
		{"employeeEmail", emp.Email},
	}
}

// trunkNumber is the clinic's number on the trunk the call used: the trunk's outbound caller
// ID (FreePBX trunks.outcid) where known, else, for an incoming call, the DID it came in on.
func (s *Server) trunkNumber(c Call) string {
	if n := s.TrunkNumbers[c.Trunk]; n != "" {
		return n
	}
	if c.CallType == 0 {
		return c.DIDNumber
	}
	return ""
}
