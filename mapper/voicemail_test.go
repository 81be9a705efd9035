package mapper

import (
	"path/filepath"
	"testing"

	"github.com/celbridge/celbridge"
)

// TestVoicemailMessage: the hang-up of a call that went to voicemail says whether the caller
// recorded a message (VM-SUCCESS in the call details): F3 and G2 of freepbx-cel-2 left one;
// the same calls hung up at the beep did not; an answered call never has one.
func TestVoicemailMessage(t *testing.T) {
	hangup := func(rows []celbridge.CELRow) celbridge.Event {
		t.Helper()
		for _, e := range MapAll(DefaultConfig(), rows) {
			if e.RequestType == celbridge.Hangup {
				return e
			}
		}
		t.Fatal("no hangupTheCall")
		return celbridge.Event{}
	}
	for _, tt := range []struct {
		name     string
		atBeep   bool // the caller hangs up when the beep ends
		disp     string
		recorded bool
	}{
		{"fp17-f3-followme-voicemail", false, celbridge.DispVoicemail, true},
		{"fp17-g2-ringgroup17-voicemail", false, celbridge.DispVoicemail, true},
		{"fp17-f3-followme-voicemail", true, celbridge.DispVoicemail, false},
		{"fp17-g2-ringgroup17-voicemail", true, celbridge.DispVoicemail, false},
		{"fp17-f1-followme-answered-mobile", false, celbridge.DispAnswer, false},
	} {
		rows := loadRows(t, filepath.Join("testdata", tt.name, "input.json"))
		if tt.atBeep {
			beepEnd, seen := rows[0].EventTime, false
			for _, r := range rows {
				if seen && r.EventType == "STREAM_END" {
					beepEnd = r.EventTime
					break
				}
				seen = seen || r.EventType == "STREAM_BEGIN" && r.Extra != "" && extraHas(r.Extra, "beep")
			}
			for i := range rows {
				if rows[i].EventTime.After(beepEnd) {
					rows[i].EventTime = beepEnd
				}
			}
		}
		e := hangup(rows)
		if e.Disposition != tt.disp || e.VoicemailMessage != tt.recorded {
			t.Errorf("%s (hung up at the beep: %v): %s, message %v; want %s, %v", tt.name, tt.atBeep, e.Disposition, e.VoicemailMessage, tt.disp, tt.recorded)
		}
		if f := celbridge.EncodeForm(e.Fields("")); f != "generalCallID="+e.GeneralCallID+"&billsec=0&disposition="+e.Disposition+"&requestType=hangupTheCall" && tt.disp == celbridge.DispVoicemail {
			t.Errorf("the push changed: %s", f)
		}
	}
}

func extraHas(extra, sound string) bool {
	v, _ := extraField(extra, "sound")
	return v == sound
}
