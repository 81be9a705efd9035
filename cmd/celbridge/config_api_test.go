package main

import (
	"strings"
	"testing"
)

// TestValidate_API: each bad [api], [ami], [[employees]] or pbx.recordings_dir value stops
// start-up with a line naming the key and what to write; the secret is never echoed.
func TestValidate_API(t *testing.T) {
	const api = "[api]\nlisten = \"0.0.0.0:8443\"\nkey = \"clinic\"\npublic_url = \"https://pbx.example:8443\"\n"
	for _, tc := range []struct{ name, toml, key, fix string }{
		{"ShortSecret", api + `secret = "tooshort-SECRET"`, "api.secret", "openssl rand -hex 16"},
		{"NoKey", "[api]\nlisten = \"0.0.0.0:8443\"\nsecret = \"0123456789abcdef0\"\npublic_url = \"https://p\"", "api.key", `key = "clinic-1"`},
		{"Listen", "[api]\nlisten = \"8443\"", "api.listen", `"0.0.0.0:8443"`},
		{"SameAsHTTP", "[api]\nlisten = \"127.0.0.1:9187\"", "api.listen", "its own port"},
		{"PublicURL", "[api]\nlisten = \"0.0.0.0:8443\"\nkey = \"k\"\nsecret = \"0123456789abcdef0\"", "api.public_url", "https://pbx.clinic.example:8443"},
		{"Allow", "[api]\nallow = [\"10.0.0.0/33\"]", "api.allow[0]", "203.0.113.0/24"},
		{"TLSHalf", "[api]\ntls_cert = \"/etc/c.pem\"", "api.tls_cert", "tls_key"},
		{"MaxBody", "[api]\nmax_body = 10", "api.max_body", "65536"},
		{"BadSignatures", "[api]\nbad_signatures = 0", "api.bad_signatures", "such as 10"},
		{"AMIAddress", "[ami]\naddress = \"127.0.0.1\"\nusername = \"u\"\nsecret = \"s\"", "ami.address", "127.0.0.1:5038"},
		{"AMIUser", "[ami]\naddress = \"127.0.0.1:5038\"\nsecret = \"s\"", "ami.username", `username = "celbridge"`},
		{"AMISecret", "[ami]\naddress = \"127.0.0.1:5038\"\nusername = \"u\"", "ami.secret", "secret"},
		{"Employee", "[[employees]]\nextension = \"80 1\"", "employees[0].extension", `extension = "801"`},
		{"EmployeeEmail", "[[employees]]\nextension = \"801\"\nemail = \"ivan\"", "employees[0].email", "ivan@clinic.example"},
		{"RecordingsDir", "[pbx]\nrecordings_dir = \"monitor\"", "pbx.recordings_dir", "/var/spool/asterisk/monitor"},
		{"Unknown", "[api]\nlisen = \"x\"", "api.lisen", "config.example.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(minimalConfig + tc.toml))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.key) || !strings.Contains(msg, tc.fix) {
				t.Fatalf("error does not name %s and show %q:\n%s", tc.key, tc.fix, msg)
			}
			if strings.Contains(msg, "tooshort-SECRET") {
				t.Fatalf("the secret is echoed:\n%s", msg)
			}
		})
	}
	good := minimalConfig + api + "secret = \"0123456789abcdef0\"\nallow = [\"203.0.113.7\", \"10.0.0.0/8\"]\n" +
		"[ami]\naddress = \"127.0.0.1:5038\"\nusername = \"celbridge\"\nsecret = \"s\"\n" +
		"[[employees]]\nextension = \"801\"\nname = \"Ivan Petrenko\"\nemail = \"ivan@clinic.example\"\n"
	if _, err := ParseConfig(strings.NewReader(good)); err != nil {
		t.Fatalf("a valid API config is refused: %v", err)
	}
}
