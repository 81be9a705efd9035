package main

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

const minimalConfig = `
[mysql]
dsn = "celbridge:secret@tcp(127.0.0.1:3306)/asteriskcdrdb"
[crm]
url = "https://crm.example.com/api/Binotel/Push"
`

func TestParseConfig_Example(t *testing.T) {
	f, err := os.Open("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := ParseConfig(f)
	if err != nil {
		t.Fatalf("config.example.toml does not parse: %v", err)
	}
	// Every key but the two required ones and the documented rewrite rules shows its default.
	want := DefaultConfig()
	want.MySQL.DSN = "celbridge:secret@tcp(127.0.0.1:3306)/asteriskcdrdb"
	want.CRM.URL = "https://clinic.example.com/api/Binotel/Push"
	want.Numbers = cfg.Numbers
	if cfg.CRM.Headers == nil {
		want.CRM.Headers = nil
	} else {
		want.CRM.Headers = map[string]string{}
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config.example.toml differs from DefaultConfig():\n got %+v\nwant %+v", cfg, want)
	}
	if len(cfg.Numbers.Rewrite) != 2 {
		t.Errorf("example has %d rewrite rules, want 2", len(cfg.Numbers.Rewrite))
	}
}

func TestParseConfig_Minimal(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(minimalConfig))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Poll.Schedule != "@every 1s" || cfg.Poll.GapTimeout.Duration != 10*time.Second ||
		cfg.Store.Retention.Duration != 30*24*time.Hour || cfg.CRM.Concurrency != 4 || cfg.MySQL.Table != "cel" {
		t.Errorf("defaults not applied: %+v", cfg)
	}
}

func TestParseConfig_Errors(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want []string // each must appear in the error
	}{
		{"MissingRequired", ``, []string{"mysql.dsn: is empty", "crm.url: is empty", "celbridge:secret@tcp(127.0.0.1:3306)/asteriskcdrdb"}},
		{"MissingURL", `[mysql]
dsn = "u:p@tcp(h:3306)/asteriskcdrdb"`, []string{"crm.url: is empty", "https://clinic.example.com/api/Binotel/Push"}},
		{"TypoKey", minimalConfig + "[poll]\nschedul = \"@every 1s\"\n", []string{`unknown key "poll.schedul"`, "config.example.toml"}},
		{"TypoSection", minimalConfig + "[stor]\npath = \"x\"\n", []string{`unknown key "stor.path"`}},
		{"BadSchedule", minimalConfig + "[poll]\nschedule = \"every second\"\n", []string{"poll.schedule", "@every 250ms"}},
		{"BadDuration", minimalConfig + "[poll]\ngap_timeout = \"ten\"\n", []string{"gap_timeout", `"10s"`}},
		{"ZeroDuration", minimalConfig + "[poll]\nend_grace = \"0s\"\n", []string{"poll.end_grace: must be a positive duration"}},
		{"DuplicateSection", minimalConfig + "[mysql]\n", []string{"line 6", "already been defined"}},
		{"BadCallID", minimalConfig + "call_id = \"uuid\"\n", []string{`crm.call_id: "uuid" is not "digits" or "linkedid"`}},
		{"BadURL", "[mysql]\ndsn = \"u:p@tcp(h:3306)/db\"\n[crm]\nurl = \"ftp://x\"\n", []string{"crm.url: is not an http(s) URL"}},
		{"BadOutboundPrefix", minimalConfig + "[pbx]\noutbound_prefixes = [\"9|0XXXXXXXXX\", \"9|0XY\"]\n", []string{"pbx.outbound_prefixes[1]", `"Y" is not pattern syntax`, `["9|0XXXXXXXXX"]`}},
		{"BadRegexp", minimalConfig + "[pbx]\nextension_pattern = \"([0-9\"\n", []string{"pbx.extension_pattern", "^[0-9]{2,6}$"}},
		{"BadRewrite", minimalConfig + "[[numbers.rewrite]]\nmatch = \"(\"\nreplace = \"0\"\n", []string{"numbers.rewrite[0].match"}},
		{"BadGroup", minimalConfig + "[[pbx.groups]]\nnumber = \"600\"\n", []string{"pbx.groups[0]: needs number and members"}},
		{"BadLevel", minimalConfig + "[log]\nlevel = \"loud\"\nformat = \"xml\"\n", []string{"log.level", "log.format"}},
		{"BadListen", minimalConfig + "[http]\nlisten = \"9187\"\n", []string{"http.listen", "127.0.0.1:9187"}},
		{"BadBatch", "[mysql]\ndsn = \"u:p@tcp(h:3306)/db\"\nbatch_size = 0\n[crm]\nurl = \"http://x\"\n", []string{"mysql.batch_size: 0 is out of range"}},
		{"BadTimezone", "[mysql]\ndsn = \"u:p@tcp(h:3306)/db\"\ntimezone = \"Mars/Base\"\n[crm]\nurl = \"http://x\"\n", []string{"mysql.timezone", "Europe/Kyiv"}},
		{"LongCRMTimeout", minimalConfig + "timeout = \"45s\"\n", []string{`crm.timeout: 45s is too long`, "TimeoutStopSec", `at most "30s"`}},
		{"HeaderValueCRLF", minimalConfig + "[crm.headers]\nAuthorization = \"Bearer hunter2\\r\\nX-Evil: 1\"\n", []string{"crm.headers.Authorization: the value holds a control character", `Authorization = "Bearer <token>"`}},
		{"HeaderValueNUL", minimalConfig + "[crm.headers]\nX-Api-Key = \"hunter2\\u0000\"\n", []string{"crm.headers.X-Api-Key: the value holds a control character"}},
		{"HeaderValueTab", minimalConfig + "[crm.headers]\nX-Api-Key = \"hunter2\\t\"\n", []string{"crm.headers.X-Api-Key: the value holds a control character"}},
		{"HeaderName", minimalConfig + "[crm.headers]\n\"X Api(Key)\" = \"hunter2\"\n", []string{`crm.headers: "X Api(Key)" is not a header name`, "X-Api-Key ="}},
		{"HeaderNameColon", minimalConfig + "[crm.headers]\n\"Authorization:\" = \"hunter2\"\n", []string{`crm.headers: "Authorization:" is not a header name`}},
		{"BadDSN", "[mysql]\ndsn = \"celbridge:hunter2@127.0.0.1/asteriskcdrdb\"\n[crm]\nurl = \"http://x\"\n", []string{"mysql.dsn:", "tcp(127.0.0.1:3306)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(tt.toml))
			if err == nil {
				t.Fatal("ParseConfig accepted a bad config")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password:\n%v", err)
			}
		})
	}
}

// TestParseConfig_CRMLimits: the values next to the bounds pass.
func TestParseConfig_CRMLimits(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(minimalConfig + "timeout = \"30s\"\n[crm.headers]\n" +
		"Authorization = \"Bearer abc.DEF-123_~+/=\"\nX-Api-Key = \"k 3 y\"\n\"X-Odd!#$%&'*+.^_`|~\" = \"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CRM.Timeout.Duration != 30*time.Second || len(cfg.CRM.Headers) != 3 {
		t.Errorf("got %+v", cfg.CRM)
	}
}

func TestParseConfig_OneLinePerProblem(t *testing.T) {
	_, err := ParseConfig(strings.NewReader("[poll]\nschedule = \"x\"\n[log]\nlevel = \"y\"\n"))
	if err == nil {
		t.Fatal("want errors")
	}
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	if len(lines) != 4 { // dsn, url, schedule, level
		t.Errorf("got %d lines, want 4:\n%v", len(lines), err)
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"10s": 10 * time.Second, "30d": 720 * time.Hour, "1h30m": 90 * time.Minute, "250ms": 250 * time.Millisecond} {
		var d Duration
		if err := d.UnmarshalText([]byte(in)); err != nil || d.Duration != want {
			t.Errorf("%q -> %v, %v; want %v", in, d.Duration, err, want)
		}
	}
	for _, in := range []string{"", "d", "1.5d", "ten"} {
		var d Duration
		if err := d.UnmarshalText([]byte(in)); err != nil || d.err() == nil {
			t.Errorf("%q: decode error %v, err() %v; want it kept for Validate", in, err, d.err())
		}
	}
}

// TestParseConfig_BadDurationAndMore: a bad duration does not hide the file's other
// problems: every one is reported, each naming its key.
func TestParseConfig_BadDurationAndMore(t *testing.T) {
	_, err := ParseConfig(strings.NewReader(`
[mysql]
dsn = "u:p@tcp(127.0.0.1:3306)/asteriskcdrdb"
[poll]
end_grace = "3 seconds"
[crm]
url = "https://crm.example/api/Binotel/Push"
timeout = "soon"
[log]
level = "loud"
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`poll.end_grace: "3 seconds" is not a duration`, `crm.timeout: "soon" is not a duration`, `log.level: "loud"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}
