package mapper

import (
	"regexp"
	"testing"
)

func TestClassify(t *testing.T) {
	pat := regexp.MustCompile(DefaultExtensionPattern)
	tests := []struct {
		name string
		want chanInfo
	}{
		{"PJSIP/801-0000001b", chanInfo{kind: kindPhone, ext: "801"}},
		{"SIP/802-00000a1F", chanInfo{kind: kindPhone, ext: "802"}},
		{"PJSIP/kyivstar-0000001a", chanInfo{kind: kindTrunk, ext: "kyivstar"}},
		{"PJSIP/Opensolution-0000001d", chanInfo{kind: kindTrunk, ext: "Opensolution"}},
		{"SIP/my-trunk-name-00000001", chanInfo{kind: kindTrunk, ext: "my-trunk-name"}},
		{"PJSIP/380441234567-00000001", chanInfo{kind: kindTrunk, ext: "380441234567"}},
		{"PJSIP/801-0000001b<ZOMBIE>", chanInfo{kind: kindPhone, ext: "801"}},
		{"PJSIP/801", chanInfo{kind: kindPhone, ext: "801"}},
		{"Local/801@from-queue-00000000;1", chanInfo{kind: kindLocal, ext: "801", localBase: "Local/801@from-queue-00000000", localSide: '1', localCtx: "from-queue"}},
		{"Local/0951234567@from-internal-00000005;2", chanInfo{kind: kindLocal, ext: "0951234567", localBase: "Local/0951234567@from-internal-00000005", localSide: '2', localCtx: "from-internal"}},
		{"Local/FMPR-801@from-internal-0000000a;2", chanInfo{kind: kindLocal, ext: "FMPR-801", localBase: "Local/FMPR-801@from-internal-0000000a", localSide: '2', localCtx: "from-internal"}},
		{"Local/group-linear@group-000000e8;1", chanInfo{kind: kindLocal, ext: "group-linear", localBase: "Local/group-linear@group-000000e8", localSide: '1', localCtx: "group"}},
		{"Local/odd", chanInfo{kind: kindLocal}},
		{"Message/ast_msg_queue", chanInfo{kind: kindMessage}},
		{"", chanInfo{kind: kindUnknown}},
		{"garbage", chanInfo{kind: kindUnknown}},
		{"/801-1", chanInfo{kind: kindUnknown}},
		{"PJSIP/", chanInfo{kind: kindUnknown}},
		{"PJSIP/-", chanInfo{kind: kindTrunk, ext: "-"}},
	}
	for _, tt := range tests {
		if got := classify(tt.name, pat); got != tt.want {
			t.Errorf("classify(%q) = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestDialNumber(t *testing.T) {
	pat := regexp.MustCompile(DefaultExtensionPattern)
	tests := []struct{ appdata, want string }{
		{"PJSIP/0670219424@kyivstar,300,Ttb(func-apply-sipheaders^s^1)", "0670219424"},
		{"PJSIP/801/sip:801@127.0.0.2:5060,15,Ttrb(func-apply-sipheaders^s^1)", ""},
		{"PJSIP/801/sip:801@127.0.0.2:5060&PJSIP/802/sip:802@127.0.0.2:5060,20", ""},
		{"SIP/kyivstar/0671234567,300,T", "0671234567"},
		{"PJSIP/kyivstar/sip:+380671234567@sip.provider.ua,60", "+380671234567"},
		{"IAX2/trunk/0501112233", "0501112233"},
		{"Local/0951234567@from-internal/n,15", ""},
		{"PJSIP/801@801,15", ""},
		{"PJSIP/kyivstar", ""},
		{"", ""},
		{",,,", ""},
	}
	for _, tt := range tests {
		if got := dialNumber(tt.appdata, pat); got != tt.want {
			t.Errorf("dialNumber(%q) = %q, want %q", tt.appdata, got, tt.want)
		}
	}
}

func TestExtraField(t *testing.T) {
	const bridge = `{"bridge_id":"bb1a3a7a-5c88","bridge_technology":"simple_bridge"}`
	const hang = `{"hangupcause":16,"hangupsource":"PJSIP/kyivstar-00000000","dialstatus":"ANSWER"}`
	tests := []struct {
		extra, key, want string
		ok               bool
	}{
		{bridge, "bridge_id", "bb1a3a7a-5c88", true},
		{bridge, "bridge_technology", "simple_bridge", true},
		{hang, "hangupcause", "16", true},
		{hang, "dialstatus", "ANSWER", true},
		{hang, "hangupsource", "PJSIP/kyivstar-00000000", true},
		{`{"dialstatus":""}`, "dialstatus", "", true},
		{`{ "pickup_channel" : "PJSIP/803-0000001f" }`, "pickup_channel", "PJSIP/803-0000001f", true},
		{`{"extra":"a \"quoted\" word"}`, "extra", `a "quoted" word`, true},
		{`{"xbridge_id":"no","bridge_id":"yes"}`, "bridge_id", "yes", true},
		{`{"bridge_id":`, "bridge_id", "", false},
		{`{"bridge_id":"unterminated`, "bridge_id", "unterminated", true},
		{`garbage`, "bridge_id", "", false},
		{``, "bridge_id", "", false},
		{`"bridge_id"`, "bridge_id", "", false},
	}
	for _, tt := range tests {
		got, ok := extraField(tt.extra, tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("extraField(%q, %q) = %q, %v; want %q, %v", tt.extra, tt.key, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseHangup(t *testing.T) {
	tests := []struct {
		extra   string
		want    hangupInfo
		wantErr bool
	}{
		{`{"hangupcause":17,"hangupsource":"PJSIP/kyivstar-00000008","dialstatus":"BUSY"}`, hangupInfo{"BUSY", "PJSIP/kyivstar-00000008"}, false},
		{`16,dialplan/builtin,`, hangupInfo{"", "dialplan/builtin"}, false}, // Asterisk 11 CSV
		{`16,,ANSWER`, hangupInfo{"ANSWER", ""}, false},
		{``, hangupInfo{}, false},
		{`{"dialstatus":"CANCEL"`, hangupInfo{"CANCEL", ""}, true},
		{`nonsense`, hangupInfo{}, true},
	}
	for _, tt := range tests {
		got, err := parseHangup(tt.extra)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseHangup(%q) = %+v, %v; want %+v, err %v", tt.extra, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestRewrite(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Rewrites = []Rewrite{
		{Match: regexp.MustCompile(`^\+380(\d{9})$`), Replace: "0$1"},
		{Match: regexp.MustCompile(`^380(\d{9})$`), Replace: "0$1"},
		{Match: regexp.MustCompile(`^\d{9}$`), Replace: "0$0"},
		{Match: regexp.MustCompile(`^0`), Replace: "never"}, // earlier rules win
	}
	tests := []struct{ in, want string }{
		{"+380670219424", "0670219424"},
		{"380670219424", "0670219424"},
		{"670219424", "0670219424"},
		{"0670219424", "never670219424"},
		{"801", "801"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := cfg.rewrite(tt.in); got != tt.want {
			t.Errorf("rewrite(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestGroups(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Groups = []Group{
		{Number: "600", Members: []string{"801", "802", "803"}},
		{Number: "601", Members: []string{"801", "802"}},
		{Number: "610", Members: []string{"801", "802", "803", "804"}},
	}
	tests := []struct {
		rang     []string
		group    string
		ok, done bool
	}{
		{[]string{"801", "802"}, "601", true, false}, // 601 exact, but 600/610 could still match
		{[]string{"801", "802", "803"}, "600", true, false},
		{[]string{"801", "802", "803", "804"}, "610", true, true},
		{[]string{"804", "805"}, "", false, false},
	}
	for _, tt := range tests {
		g, ok := cfg.groupFor(tt.rang)
		if g.Number != tt.group || ok != tt.ok {
			t.Errorf("groupFor(%v) = %q, %v; want %q, %v", tt.rang, g.Number, ok, tt.group, tt.ok)
		}
		if done := cfg.groupComplete(tt.rang); done != tt.done {
			t.Errorf("groupComplete(%v) = %v, want %v", tt.rang, done, tt.done)
		}
	}
	if !cfg.inboundContext("from-pstn") || cfg.inboundContext("from-internal") {
		t.Error("inboundContext defaults wrong")
	}
	cfg.InboundContexts = []string{"from-trunk*"}
	if !cfg.inboundContext("from-trunk-pjsip-kyivstar") || cfg.inboundContext("") {
		t.Error("inboundContext prefix wrong")
	}
	cfg.InboundContexts = []string{"*-from-extern", "from-pstn", "bad["}
	if !cfg.inboundContext("default-key-4wfgx-from-extern") || !cfg.inboundContext("from-pstn") ||
		cfg.inboundContext("from-extern-x") || cfg.inboundContext("bad") {
		t.Error("inboundContext glob wrong")
	}
}

// TestClassifyWithPBXConfig: FreePBX's devices and trunks name channels whatever the
// extension pattern says: a device named by the user's login is that user's phone, a trunk
// named with digits is a trunk.
func TestClassifyWithPBXConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Devices = map[string]string{"PJSIP/ivan": "801", "PJSIP/801": "801"}
	cfg.Trunks = map[string]bool{"443334": true}
	for _, tt := range []struct {
		name string
		kind kind
		ext  string
	}{
		{"PJSIP/ivan-0000001b", kindPhone, "801"},
		{"pjsip/ivan-0000001b<MASQ>", kindPhone, "801"}, // devices.dial has the technology in capitals
		{"PJSIP/801-0000001c", kindPhone, "801"},
		{"PJSIP/443334-0000001d", kindTrunk, "443334"},
		{"PJSIP/802-0000001e", kindPhone, "802"},           // not in devices: the pattern decides
		{"PJSIP/kyivstar-0000001f", kindTrunk, "kyivstar"}, // nor in trunks: anything else is a trunk
		{"Local/801@from-internal-00000001;1", kindLocal, "801"},
	} {
		ci := cfg.classify(tt.name)
		if ci.kind != tt.kind || ci.ext != tt.ext {
			t.Errorf("classify(%q) = %v %q, want %v %q", tt.name, ci.kind, ci.ext, tt.kind, tt.ext)
		}
	}
	if ci := classify("PJSIP/443334-0000001d", DefaultConfig().ExtensionPattern); ci.kind != kindPhone {
		t.Errorf("without the trunk list a digits-only trunk reads as a phone (%v): the case this is for", ci.kind)
	}
}
