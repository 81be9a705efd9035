package mapper

import (
	"path"
	"regexp"
	"strings"
	"time"
)

// Group is a FreePBX ring group: its number and the extensions it rings. The mapper uses it
// to report the group's number as internalNumber when the phones that ring together are
// members of the group (CEL does not show the group number on a plain FreePBX ring group).
type Group struct {
	Number  string
	Members []string
	// Source says where the group comes from, for Rule ("[[pbx.groups]]" when empty).
	Source string
}

// Rewrite is one number rewrite rule for externalNumber and didNumber, with
// regexp.ReplaceAllString semantics. The first rule whose Match matches wins.
type Rewrite struct {
	Match   *regexp.Regexp
	Replace string
}

// Config tells the mapper how to read a PBX's CEL. Zero fields take DefaultConfig's values
// in New.
type Config struct {
	// ExtensionPattern is matched against a channel's resource ("PJSIP/801-0000001b" ->
	// "801"); a match makes the channel an internal phone. Default ^[0-9]{2,6}$.
	ExtensionPattern *regexp.Regexp
	// InboundContexts are the contexts an incoming trunk channel starts in. An entry may be a
	// glob (path.Match: * ? [...]), e.g. from-trunk* or *-from-extern. Default from-trunk*,
	// from-pstn, from-did-direct.
	InboundContexts []string
	// InternalCalls sends phone-to-phone calls (as outgoing calls). Default false.
	InternalCalls bool
	// Groups are the ring groups the mapper may name as internalNumber.
	Groups []Group
	// Rewrites apply to externalNumber and didNumber, first match wins.
	Rewrites []Rewrite
	// OutboundPrefixes are the prefixes outbound routes strip before the number goes to the
	// trunk (FreePBX: Outbound Routes, Dial Patterns). FreePBX logs the number as sent to
	// the trunk (the Dial data) only once the trunk answers, so receivedTheCall of an
	// outgoing call, sent when the trunk leg is created, has only the number as dialed: the
	// longest matching prefix is stripped from it.
	OutboundPrefixes []OutboundPrefix
	// OutboundRoutes are FreePBX's outbound route dial patterns in FreePBX's route order
	// (freepbx package): the first whose pattern the dialled number matches decides the
	// number sent to the trunk, as FreePBX strips and prepends it. OutboundPrefixes (the
	// config file's) are tried first.
	OutboundRoutes []OutboundRoute
	// Devices maps a phone's dial string ("PJSIP/801", FreePBX's devices.dial) to its user's
	// extension, and Trunks holds the trunks' channel names ("kyivstar"): a channel they name
	// is a phone or a trunk whatever ExtensionPattern says.
	Devices map[string]string
	Trunks  map[string]bool
	// FollowMe maps an outside number on an extension's follow-me list to the extension
	// (FreePBX's findmefollow): a Local/FMGL-<number># leg rings that employee's mobile.
	FollowMe map[string]string
	// CallID is "digits" (default: the linkedid's digits) or "linkedid" (verbatim).
	CallID string
	// SendTransfers emits transferredTheCall events.
	SendTransfers bool
	// EndGrace is how long a call whose channels all ended waits for more rows in Expire.
	EndGrace time.Duration
	// MaxCallAge closes a call that has been open this long in Expire.
	MaxCallAge time.Duration
}

// CallID values.
const (
	CallIDDigits   = "digits"
	CallIDLinkedID = "linkedid"
)

// DefaultExtensionPattern is the default Config.ExtensionPattern.
const DefaultExtensionPattern = `^[0-9]{2,6}$`

// DefaultConfig returns the configuration with every default set.
func DefaultConfig() Config {
	return Config{
		ExtensionPattern: regexp.MustCompile(DefaultExtensionPattern),
		InboundContexts:  []string{"from-trunk*", "from-pstn", "from-did-direct"},
		CallID:           CallIDDigits,
		EndGrace:         3 * time.Second,
		MaxCallAge:       12 * time.Hour,
	}
}

// withDefaults fills the zero fields of cfg from DefaultConfig.
func (cfg Config) withDefaults() Config {
	d := DefaultConfig()
	if cfg.ExtensionPattern == nil {
		cfg.ExtensionPattern = d.ExtensionPattern
	}
	if cfg.InboundContexts == nil {
		cfg.InboundContexts = d.InboundContexts
	}
	if cfg.CallID == "" {
		cfg.CallID = d.CallID
	}
	if cfg.EndGrace <= 0 {
		cfg.EndGrace = d.EndGrace
	}
	if cfg.MaxCallAge <= 0 {
		cfg.MaxCallAge = d.MaxCallAge
	}
	return cfg
}

// inboundContext reports whether ctx is one of cfg.InboundContexts.
func (cfg *Config) inboundContext(ctx string) bool {
	if ctx == "" {
		return false
	}
	for _, c := range cfg.InboundContexts {
		if c == ctx {
			return true
		}
		if strings.ContainsAny(c, "*?[") {
			if ok, err := path.Match(c, ctx); ok && err == nil {
				return true
			}
		}
	}
	return false
}

// rewrite applies the first matching rewrite rule to number.
func (cfg *Config) rewrite(number string) string {
	if number == "" {
		return number
	}
	for _, r := range cfg.Rewrites {
		if r.Match != nil && r.Match.MatchString(number) {
			return r.Match.ReplaceAllString(number, r.Replace)
		}
	}
	return number
}

// groupFor returns the smallest configured group whose members include every extension in
// rang; ok is false when none does.
func (cfg *Config) groupFor(rang []string) (group Group, ok bool) {
	best := -1
	for _, g := range cfg.Groups {
		if g.Number == "" || !containsAll(g.Members, rang) {
			continue
		}
		if best < 0 || len(g.Members) < best {
			best, group = len(g.Members), g
		}
	}
	return group, best >= 0
}

// inAnyGroup reports whether ext is a member of a configured group.
func (cfg *Config) inAnyGroup(ext string) bool {
	for _, g := range cfg.Groups {
		for _, m := range g.Members {
			if m == ext {
				return true
			}
		}
	}
	return false
}

// groupComplete reports whether rang is exactly the member set of a configured group and no
// larger group could still match (so the decision cannot change with more rows).
func (cfg *Config) groupComplete(rang []string) bool {
	exact, larger := false, false
	for _, g := range cfg.Groups {
		if !containsAll(g.Members, rang) {
			continue
		}
		if containsAll(rang, g.Members) {
			exact = true
		} else {
			larger = true
		}
	}
	return exact && !larger
}

func containsAll(set, items []string) bool {
	for _, it := range items {
		found := false
		for _, s := range set {
			if s == it {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
