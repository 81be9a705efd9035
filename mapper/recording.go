package mapper

import (
	"strings"

	"github.com/celbridge/celbridge"
)

// Recording (for the CRM's call-record requests, not a push field): FreePBX records a call
// with MixMonitor, started from sub-record-check, and CEL logs it (cel.conf apps= includes
// mixmonitor) as APP_START with the file as the first argument, relative to the monitor
// directory: MixMonitor(2026/12/02/in-0443334000-0674443322-20261202-020859-1796177339.45.wav,abi(…),)
// (freepbx-cel-2, scenarios R1 and R2). The first file of the call is kept; hangupTheCall
// carries it in Event.Recording.

// maxRecordingName bounds what is kept of the file name (CEL text is capped at 8 KiB).
const maxRecordingName = 512

// recording is what a call knows about its recording.
type recording struct {
	file string
}

// note reads an APP_START row: a MixMonitor start names the file, unless one is known.
func (r *recording) note(row *celbridge.CELRow) {
	if r.file != "" || !strings.EqualFold(row.AppName, "MixMonitor") {
		return
	}
	file, _, _ := strings.Cut(row.AppData, ",")
	file = strings.TrimSpace(celbridge.WireText(file))
	if file == "" || len(file) > maxRecordingName {
		return
	}
	r.file = file
}
