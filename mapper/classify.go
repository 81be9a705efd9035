package mapper

import (
	"regexp"
	"strings"
)

// kind is what a channel is to a call.
type kind uint8

const (
	kindUnknown kind = iota // no TECH/ prefix: cannot tell
	kindPhone               // internal phone: resource matches the extension pattern
	kindTrunk               // any other device channel: the external world
	kindLocal               // Local/exten@context-XXXX;1|;2 helper
	kindMessage             // Message/...: SIP MESSAGE handling, not a call
)

func (k kind) String() string {
	switch k {
	case kindPhone:
		return "phone"
	case kindTrunk:
		return "trunk"
	case kindLocal:
		return "local"
	case kindMessage:
		return "message"
	}
	return "unknown"
}

// chanInfo is what a channel name says.
type chanInfo struct {
	kind kind
	// ext is the extension of a phone ("801"), or the exten of a Local channel ("801" in
	// Local/801@from-queue-00000000;1).
	ext string
	// localBase is a Local channel's name without ";1"/";2"; localSide is '1' or '2'.
	localBase string
	localSide byte
	// localCtx is a Local channel's context without the counter ("from-queue" in
	// Local/801@from-queue-00000000;1).
	localCtx string
}

// classify is classify with what the PBX's configuration says first (Config.Devices,
// Config.Trunks): a device is a phone of its user's extension, a trunk is a trunk, whatever
// the extension pattern says of their names.
func (cfg *Config) classify(name string) chanInfo {
	ci := classify(name, cfg.ExtensionPattern)
	if len(cfg.Devices) == 0 && len(cfg.Trunks) == 0 || ci.kind != kindPhone && ci.kind != kindTrunk {
		return ci
	}
	// classify read the resource into ci.ext: the device's dial string is the name up to its
	// end ("PJSIP/801" of "PJSIP/801-0000001b"), a slice of name, without a new string per row.
	res := ci.ext
	tech, _, _ := strings.Cut(name, "/")
	ext, ok := "", false
	if n := len(tech) + 1 + len(res); n <= len(name) {
		ext, ok = cfg.Devices[name[:n]]
	}
	if !ok && strings.ToUpper(tech) != tech { // devices.dial writes the technology in capitals
		ext, ok = cfg.Devices[strings.ToUpper(tech)+"/"+res]
	}
	if ok && ext != "" {
		return chanInfo{kind: kindPhone, ext: ext}
	}
	if cfg.Trunks[res] {
		return chanInfo{kind: kindTrunk, ext: res}
	}
	return ci
}

// classify reads a channel name of the form TECH/resource-suffix. Masquerade and zombie
// decorations (<MASQ>, <ZOMBIE>) are ignored.
func classify(name string, extPattern *regexp.Regexp) chanInfo {
	if i := strings.IndexByte(name, '<'); i >= 0 {
		name = name[:i]
	}
	tech, rest, ok := strings.Cut(name, "/")
	if !ok || tech == "" || rest == "" {
		return chanInfo{kind: kindUnknown}
	}
	switch {
	case strings.EqualFold(tech, "Message"):
		return chanInfo{kind: kindMessage}
	case strings.EqualFold(tech, "Local"):
		return classifyLocal(name, rest)
	}
	res := resource(rest)
	if res != "" && extPattern != nil && extPattern.MatchString(res) {
		return chanInfo{kind: kindPhone, ext: res}
	}
	return chanInfo{kind: kindTrunk, ext: res}
}

// classifyLocal reads Local/<exten>@<context>-<hex>;<1|2>.
func classifyLocal(name, rest string) chanInfo {
	ci := chanInfo{kind: kindLocal}
	if i := strings.LastIndexByte(name, ';'); i >= 0 && i == len(name)-2 {
		ci.localBase = name[:i]
		ci.localSide = name[i+1]
	}
	if ex, ctx, ok := strings.Cut(rest, "@"); ok {
		ci.ext = ex
		if i := strings.LastIndexByte(ctx, ';'); i >= 0 {
			ctx = ctx[:i]
		}
		ci.localCtx = resource(ctx)
	}
	return ci
}

// resource strips the "-<hex counter>" suffix Asterisk appends to device channel names:
// "801-0000001b" -> "801", "kyivstar-0000001a" -> "kyivstar". A name without such a suffix
// is returned as is.
func resource(rest string) string {
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 || i == len(rest)-1 {
		return rest
	}
	for j := i + 1; j < len(rest); j++ {
		c := rest[j]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return rest
		}
	}
	return rest[:i]
}

// dialNumber returns the number a Dial() target list sends to a trunk, or "" when it dials
// no trunk. appdata is Dial's whole argument string ("PJSIP/0671234567@kyivstar,300,Tt").
// Accepted target forms: PJSIP/<number>@<endpoint>, <TECH>/<endpoint>/<number> (chan_sip,
// IAX2, DAHDI) and <TECH>/<endpoint>/sip:<number>@host. A target whose endpoint is an
// internal phone, and Local/ targets, are skipped.
func dialNumber(appdata string, extPattern *regexp.Regexp) string {
	targets, _, _ := strings.Cut(appdata, ",")
	for t := range strings.SplitSeq(targets, "&") {
		tech, res, ok := strings.Cut(strings.TrimSpace(t), "/")
		if !ok || tech == "" || strings.EqualFold(tech, "Local") {
			continue
		}
		var endpoint, num string
		if ep, uri, ok := strings.Cut(res, "/"); ok {
			endpoint, num = ep, uri
			for _, p := range []string{"sip:", "sips:", "tel:"} {
				num = strings.TrimPrefix(num, p)
			}
			num, _, _ = strings.Cut(num, "@")
		} else if n, ep, ok := strings.Cut(res, "@"); ok {
			endpoint, num = ep, n
		} else {
			continue
		}
		num, _, _ = strings.Cut(num, ";")
		if num == "" || endpoint == "" || (extPattern != nil && extPattern.MatchString(endpoint)) {
			continue
		}
		return num
	}
	return ""
}
