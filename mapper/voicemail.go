package mapper

import (
	"strings"
	"time"

	"github.com/celbridge/celbridge"
)

// Voicemail message (for the CRM's call details, VM-SUCCESS; the push says VM either way):
// CEL has no row saying a message was saved, but FreePBX's VoiceMail plays the greeting,
// vm-intro and a "beep" (STREAM_BEGIN with extra.sound, cel.conf events=ALL), then records
// until the caller hangs up or presses #. A caller still there at least minMessage after the
// beep ended left a message (freepbx-cel-2 F3 and G2: beep over at :45, APP_END at :50).

// minMessage is how long after the beep the caller must stay: eventtime has whole seconds.
const minMessage = time.Second

// voicemailRecording follows VoiceMail's sounds on the caller's channel.
type voicemailRecording struct {
	beep     bool      // the beep is playing
	recordAt time.Time // when the beep ended: recording starts
	endAt    time.Time // VoiceMail's APP_END
}

// note reads a VoiceMail row (STREAM_BEGIN/END, APP_END; Mapper.feed passes no other app's).
func (v *voicemailRecording) note(row *celbridge.CELRow, et evType, t time.Time) {
	if !strings.EqualFold(row.AppName, "VoiceMail") {
		return
	}
	switch et {
	case evStreamBegin:
		sound, _ := extraField(row.Extra, "sound")
		v.beep = sound == "beep"
	case evStreamEnd:
		if v.beep {
			v.beep, v.recordAt = false, t
		}
	case evAppEnd:
		v.endAt = t
	}
}

// message reports whether a message was recorded, the call having ended at end.
func (v *voicemailRecording) message(end time.Time) bool {
	if v.recordAt.IsZero() {
		return false
	}
	if !v.endAt.IsZero() && v.endAt.After(v.recordAt) {
		end = v.endAt
	}
	return end.Sub(v.recordAt) >= minMessage
}
