package callapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// callRecord answers {"callID": id}: "url", a link to the call's recording that works for
// LinkTTL.
func (s *Server) callRecord(ctx context.Context, p object) (object, error) {
	raw, _ := p.get("callID")
	id, ok := idParam(raw)
	if !ok {
		return nil, refuse(http.StatusBadRequest, codeBadParam, "bad_param", "callID is required: a call id")
	}
	f, _, err := s.openRecording(ctx, id)
	if err != nil {
		return nil, err
	}
	f.Close()
	expires := s.Now().Add(s.LinkTTL).Unix()
	q := url.Values{"expires": {strconv.FormatInt(expires, 10)}, "sig": {s.linkSig(id, expires)}}
	link := strings.TrimRight(s.PublicURL, "/") + "/recordings/" + url.PathEscape(id) + "?" + q.Encode()
	return object{{"url", link}}, nil
}

// linkSig is the HMAC-SHA256 of a link's call id and expiry, in hex.
func (s *Server) linkSig(id string, expires int64) string {
	m := hmac.New(sha256.New, s.LinkKey)
	fmt.Fprintf(m, "recording\n%s\n%d", id, expires)
	return hex.EncodeToString(m.Sum(nil))
}

// recording serves GET /recordings/<callID>?expires=…&sig=…: the file, with Range requests,
// when the link is intact and not expired.
func (s *Server) recording(w http.ResponseWriter, r *http.Request) {
	const name = "recording"
	addr := remoteAddr(r)
	if s.bad.blocked(addr, s.Now()) {
		s.fail(w, r, name, refuse(http.StatusTooManyRequests, codeTooMany, "too_many_bad_signatures", "too many bad signatures; try again later"))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.fail(w, r, name, refuse(http.StatusMethodNotAllowed, codeMethod, "method", "use GET"))
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/recordings/")
	q := r.URL.Query()
	expires, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	sig := q.Get("sig")
	if err != nil || !callID.MatchString(id) || len(sig) != 64 ||
		!hmac.Equal([]byte(strings.ToLower(sig)), []byte(s.linkSig(id, expires))) {
		s.bad.add(addr, s.Now(), s.BadLimit, s.BadWindow)
		s.fail(w, r, name, refuse(http.StatusForbidden, codeLinkInvalid, "bad_link", "invalid link"))
		return
	}
	if s.Now().Unix() > expires {
		s.fail(w, r, name, refuse(http.StatusGone, codeLinkExpired, "link_expired", "the link has expired; ask for a new one"))
		return
	}
	f, st, err := s.openRecording(r.Context(), id)
	if err != nil {
		s.fail(w, r, name, err)
		return
	}
	defer f.Close()
	s.requests.WithLabelValues(name, "ok").Inc()
	base := path.Base(filepath.ToSlash(st.Name()))
	ct := contentTypes[strings.ToLower(filepath.Ext(base))]
	if ct == "" {
		ct = mime.TypeByExtension(filepath.Ext(base))
	}
	if ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": base}))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, base, st.ModTime(), f)
}

// contentTypes of the formats Asterisk records in (Go's own table lacks them).
var contentTypes = map[string]string{
	".wav": "audio/wav", ".wav49": "audio/wav", ".mp3": "audio/mpeg", ".gsm": "audio/gsm",
	".ogg": "audio/ogg", ".sln": "audio/L16",
}

// openRecording opens the call's recording inside RecordingsDir. os.Root refuses any path
// that leaves the directory: "..", an absolute path elsewhere, a symlink pointing out.
func (s *Server) openRecording(ctx context.Context, id string) (*os.File, fs.FileInfo, error) {
	calls, err := s.Calls.Calls(ctx, []string{id})
	if err != nil {
		return nil, nil, err
	}
	if len(calls) == 0 || calls[0].Recording == "" {
		return nil, nil, refuse(http.StatusNotFound, codeNotFound, "no_recording", "no recording for this call")
	}
	rel := calls[0].Recording
	if filepath.IsAbs(rel) {
		// FreePBX may log the full path: it must lie under the directory.
		r, err := filepath.Rel(filepath.Clean(s.RecordingsDir), filepath.Clean(rel))
		if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return nil, nil, s.outside(id, "absolute path outside pbx.recordings_dir")
		}
		rel = r
	}
	root, err := os.OpenRoot(s.RecordingsDir)
	if err != nil {
		return nil, nil, fmt.Errorf("open pbx.recordings_dir: %w", err)
	}
	defer root.Close()
	f, err := root.Open(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, refuse(http.StatusNotFound, codeNotFound, "recording_missing", "the recording file is missing")
	}
	if err != nil {
		return nil, nil, s.outside(id, err.Error())
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, s.outside(id, "not a regular file")
	}
	return f, st, nil
}

// outside refuses a recording whose name points outside the directory (a CEL row crafted,
// or a symlink planted): a 404 for the client, a warning in the log.
func (s *Server) outside(id, why string) error {
	s.Logger.Warn("api: recording refused: it is not a file inside pbx.recordings_dir", "call", id, "why", safe(why))
	return refuse(http.StatusNotFound, codeNotFound, "recording_outside", "no recording for this call")
}
