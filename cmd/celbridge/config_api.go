package main

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// APIConfig is the [api] section: the methods the CRM calls on celbridge.
type APIConfig struct {
	// Listen is host:port of the API; "" turns it off.
	Listen string `toml:"listen"`
	// Key names the CRM; Secret signs its requests and our answers.
	Key    string `toml:"key"`
	Secret string `toml:"secret"`
	// Allow lists the CIDRs (or single addresses) that may call the methods; empty: any.
	Allow []string `toml:"allow"`
	// TLSCert and TLSKey are PEM files; both empty: plain HTTP (behind a TLS proxy only).
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// PublicURL is the address the CRM reaches the API at; recording links start with it.
	PublicURL string `toml:"public_url"`
	// MaxBody bounds a request body in bytes; BadSignatures is how many bad signatures an
	// address may send per minute before it is refused for the rest of that minute.
	MaxBody       int64 `toml:"max_body"`
	BadSignatures int   `toml:"bad_signatures"`
}

// AMIConfig is the [ami] section: Asterisk's Manager Interface, for click-to-call.
type AMIConfig struct {
	Address  string `toml:"address"`
	Username string `toml:"username"`
	Secret   string `toml:"secret"`
}

// EmployeeConfig is one [[employees]] entry: who answers at an extension.
type EmployeeConfig struct {
	Extension string `toml:"extension"`
	Name      string `toml:"name"`
	Email     string `toml:"email"`
}

// minSecret is the shortest api.secret accepted: it is all that stands between the internet
// and the call log.
const minSecret = 16

func (c Config) validateAPI(bad func(string, string, ...any)) {
	a := c.API
	if a.Listen != "" {
		if _, port, err := net.SplitHostPort(a.Listen); err != nil {
			bad("api.listen", "%q is not host:port (write it like \"0.0.0.0:8443\", or \"\" to turn the API off)", a.Listen)
		} else if a.Listen == c.HTTP.Listen && port != "0" {
			bad("api.listen", "is the same address as http.listen; give the API its own port, like \"0.0.0.0:8443\"")
		}
		if a.Key == "" || strings.ContainsFunc(a.Key, unicode.IsControl) {
			bad("api.key", `is empty; set the key the CRM sends, like key = "clinic-1"`)
		}
		if len(a.Secret) < minSecret || strings.ContainsFunc(a.Secret, unicode.IsControl) {
			bad("api.secret", "must be at least %d printable characters; make one with: openssl rand -hex 16", minSecret)
		}
		if u, err := url.Parse(a.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			bad("api.public_url", `must be the URL the CRM reaches the API at, like "https://pbx.clinic.example:8443"`)
		}
	}
	for i, s := range a.Allow {
		if _, err := parsePrefix(s); err != nil {
			bad(fmt.Sprintf("api.allow[%d]", i), "%q is not a CIDR or an address (write it like \"203.0.113.0/24\" or \"203.0.113.7\")", s)
		}
	}
	if (a.TLSCert == "") != (a.TLSKey == "") {
		bad("api.tls_cert", `and api.tls_key go together: set both, like tls_cert = "/etc/celbridge/tls/fullchain.pem" and tls_key = "/etc/celbridge/tls/privkey.pem"`)
	}
	if a.MaxBody < 1024 || a.MaxBody > 1<<20 {
		bad("api.max_body", "%d is out of range (write a number of bytes from 1024 to 1048576, such as 65536)", a.MaxBody)
	}
	if a.BadSignatures < 1 || a.BadSignatures > 1000 {
		bad("api.bad_signatures", "%d is out of range (write a number from 1 to 1000, such as 10)", a.BadSignatures)
	}
	if !filepath.IsAbs(c.PBX.RecordingsDir) {
		bad("pbx.recordings_dir", "%q is not an absolute path (write it like \"/var/spool/asterisk/monitor\")", c.PBX.RecordingsDir)
	}
	c.validateAMI(bad)
	ext := regexp.MustCompile("^[0-9]{1,12}$")
	for i, e := range c.Employees {
		key := fmt.Sprintf("employees[%d]", i)
		if !ext.MatchString(e.Extension) {
			bad(key+".extension", "%q is not an extension (write it like extension = \"801\")", e.Extension)
		}
		if strings.ContainsFunc(e.Name+e.Email, unicode.IsControl) {
			bad(key, "name or email holds a control character; write each on one line")
		}
		if e.Email != "" && !strings.Contains(e.Email, "@") {
			bad(key+".email", "%q is not an e-mail address (write it like email = \"ivan@clinic.example\")", e.Email)
		}
	}
}

func (c Config) validateAMI(bad func(string, string, ...any)) {
	a := c.AMI
	if a.Address == "" {
		return
	}
	if _, _, err := net.SplitHostPort(a.Address); err != nil {
		bad("ami.address", "%q is not host:port (write it like \"127.0.0.1:5038\", or \"\" to turn click-to-call off)", a.Address)
	}
	if a.Username == "" || strings.ContainsFunc(a.Username, unicode.IsControl) {
		bad("ami.username", `is empty; set the AMI user made for celbridge, like username = "celbridge"`)
	}
	if a.Secret == "" || strings.ContainsFunc(a.Secret, unicode.IsControl) {
		bad("ami.secret", "is empty or holds a control character; set that AMI user's secret")
	}
}

// parsePrefix reads a CIDR or a single address.
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}
