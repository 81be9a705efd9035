package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"

	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/mapper"
	"github.com/celbridge/celbridge/poller"
)

// Config is celbridge's configuration file (config.example.toml documents every key).
type Config struct {
	MySQL   MySQLConfig   `toml:"mysql"`
	Poll    PollConfig    `toml:"poll"`
	CRM     CRMConfig     `toml:"crm"`
	PBX     PBXConfig     `toml:"pbx"`
	FreePBX FreePBXConfig `toml:"freepbx"`
	Numbers NumbersConfig `toml:"numbers"`
	Store   StoreConfig   `toml:"store"`
	HTTP    HTTPConfig    `toml:"http"`
	Log     LogConfig     `toml:"log"`
	// API, AMI and Employees serve the CRM's own requests (api.go).
	API       APIConfig        `toml:"api"`
	AMI       AMIConfig        `toml:"ami"`
	Employees []EmployeeConfig `toml:"employees"`
}

// MySQLConfig is the [mysql] section: where FreePBX's CEL table is.
type MySQLConfig struct {
	DSN       string `toml:"dsn"`
	Table     string `toml:"table"`
	Timezone  string `toml:"timezone"`
	BatchSize int    `toml:"batch_size"`
}

// PollConfig is the [poll] section.
type PollConfig struct {
	Schedule   string   `toml:"schedule"`
	GapTimeout Duration `toml:"gap_timeout"`
	EndGrace   Duration `toml:"end_grace"`
	MaxCallAge Duration `toml:"max_call_age"`
}

// CRMConfig is the [crm] section: where and how events are pushed.
type CRMConfig struct {
	URL           string            `toml:"url"`
	CompanyID     string            `toml:"company_id"`
	Timeout       Duration          `toml:"timeout"`
	Concurrency   int               `toml:"concurrency"`
	MaxAttempts   int               `toml:"max_attempts"`
	CallID        string            `toml:"call_id"`
	SendTransfers bool              `toml:"send_transfers"`
	Headers       map[string]string `toml:"headers"`
}

// PBXConfig is the [pbx] section: how channels and calls are classified.
type PBXConfig struct {
	ExtensionPattern string        `toml:"extension_pattern"`
	InboundContexts  []string      `toml:"inbound_contexts"`
	InternalCalls    bool          `toml:"internal_calls"`
	OutboundPrefixes []string      `toml:"outbound_prefixes"`
	Groups           []GroupConfig `toml:"groups"`
	RecordingsDir    string        `toml:"recordings_dir"`
}

// FreePBXConfig is the [freepbx] section: reading FreePBX's own configuration database.
type FreePBXConfig struct {
	Read     bool     `toml:"read"`
	Database string   `toml:"database"`
	Refresh  Duration `toml:"refresh"`
}

// GroupConfig is one [[pbx.groups]] entry: a ring group's number and its members.
type GroupConfig struct {
	Number  string   `toml:"number"`
	Members []string `toml:"members"`
}

// NumbersConfig is the [numbers] section.
type NumbersConfig struct {
	Rewrite []RewriteConfig `toml:"rewrite"`
}

// RewriteConfig is one [[numbers.rewrite]] rule.
type RewriteConfig struct {
	Match   string `toml:"match"`
	Replace string `toml:"replace"`
}

// StoreConfig is the [store] section: the local state file.
type StoreConfig struct {
	Path      string   `toml:"path"`
	Retention Duration `toml:"retention"`
}

// HTTPConfig is the [http] section: /metrics and /healthz.
type HTTPConfig struct {
	Listen string `toml:"listen"`
}

// LogConfig is the [log] section.
type LogConfig struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// Duration is a time.Duration that reads "10s", "1h30m" and also whole days ("30d").
type Duration struct {
	time.Duration
	// bad is text that is not a duration (invalid set). Decoding goes on, and Validate
	// reports it with its key among the file's other problems (a failed decode hides them).
	bad     string
	invalid bool
}

// UnmarshalText implements encoding.TextUnmarshaler. Text that is not a duration is kept for
// Validate (err), not returned.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	d.Duration, d.bad, d.invalid = 0, "", false
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && fmt.Sprint(days) == n {
			d.Duration = time.Duration(days) * 24 * time.Hour
			return nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		d.bad, d.invalid = s, true
		return nil
	}
	d.Duration = v
	return nil
}

// err says what is wrong with a duration read from the file, or nil.
func (d Duration) err() error {
	if d.invalid {
		return fmt.Errorf("%q is not a duration (write it like \"10s\", \"500ms\", \"12h\" or \"30d\")", d.bad)
	}
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DefaultConfig returns the configuration with every default set; mysql.dsn and crm.url are
// left empty because they have no sensible default.
func DefaultConfig() Config {
	m := mapper.DefaultConfig()
	return Config{
		MySQL: MySQLConfig{Table: "cel", Timezone: "Local", BatchSize: 1000},
		Poll: PollConfig{
			Schedule:   "@every 1s",
			GapTimeout: Duration{Duration: 10 * time.Second},
			EndGrace:   Duration{Duration: m.EndGrace},
			MaxCallAge: Duration{Duration: m.MaxCallAge},
		},
		CRM: CRMConfig{
			Timeout:     Duration{Duration: 10 * time.Second},
			Concurrency: 4,
			CallID:      "digits",
		},
		PBX: PBXConfig{
			ExtensionPattern: m.ExtensionPattern.String(),
			InboundContexts:  m.InboundContexts,
			RecordingsDir:    "/var/spool/asterisk/monitor",
		},
		FreePBX: FreePBXConfig{Read: true, Database: "asterisk", Refresh: Duration{Duration: 5 * time.Minute}},
		Store:   StoreConfig{Path: "/var/lib/celbridge/state.db", Retention: Duration{Duration: 30 * 24 * time.Hour}},
		HTTP:    HTTPConfig{Listen: "127.0.0.1:9187"},
		API:     APIConfig{MaxBody: 64 << 10, BadSignatures: 10},
		Log:     LogConfig{Level: "info", Format: "text"},
	}
}

// ReadConfigFile reads and validates the configuration file at path.
func ReadConfigFile(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("open config: %w (pass -config with the path of your celbridge.toml; config.example.toml is a template)", err)
	}
	defer f.Close()
	cfg, err := ParseConfig(f)
	if err != nil {
		return cfg, fmt.Errorf("config %s:\n%w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes TOML from r over the defaults and validates the result. Every problem
// found is reported, one per line, naming the key and showing a valid value.
func ParseConfig(r io.Reader) (Config, error) {
	cfg := DefaultConfig()
	md, err := toml.NewDecoder(r).Decode(&cfg)
	if err != nil {
		return cfg, fmt.Errorf("  %w", err)
	}
	var errs []error
	for _, k := range md.Undecoded() {
		if len(k) > 2 && k[0] == "crm" && k[1] == "headers" {
			continue
		}
		errs = append(errs, fmt.Errorf("  unknown key %q (a typo? every valid key is in config.example.toml)", k.String()))
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	return cfg, errors.Join(errs...)
}

// Validate checks every value and returns one error line per problem.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("  "+key+": "+format, args...))
	}
	c.validateMySQL(bad)
	if _, err := poller.ParseSchedule(c.Poll.Schedule); err != nil {
		bad("poll.schedule", "%v (write it like \"@every 1s\", \"@every 250ms\" or \"*/1 * * * *\")", err)
	}
	positive := map[string]Duration{
		"poll.gap_timeout": c.Poll.GapTimeout, "poll.end_grace": c.Poll.EndGrace,
		"poll.max_call_age": c.Poll.MaxCallAge, "crm.timeout": c.CRM.Timeout, "store.retention": c.Store.Retention,
		"freepbx.refresh": c.FreePBX.Refresh,
	}
	for _, k := range []string{"poll.gap_timeout", "poll.end_grace", "poll.max_call_age", "crm.timeout", "store.retention", "freepbx.refresh"} {
		switch d := positive[k]; {
		case d.err() != nil:
			bad(k, "%v", d.err())
		case d.Duration <= 0:
			bad(k, "must be a positive duration such as \"10s\"")
		}
	}
	c.validateCRM(bad)
	c.validatePBX(bad)
	if err := freepbx.CheckSchema(c.FreePBX.Database); err != nil {
		bad("freepbx.database", "%v", err)
	}
	if r := c.FreePBX.Refresh; r.err() == nil && r.Duration > 0 && r.Duration < 10*time.Second {
		bad("freepbx.refresh", "must be at least \"10s\" (the default is \"5m\")")
	}
	for i, rw := range c.Numbers.Rewrite {
		if _, err := regexp.Compile(rw.Match); err != nil || rw.Match == "" {
			bad(fmt.Sprintf("numbers.rewrite[%d].match", i), "%q is not a regular expression (write it like '^\\+?380(\\d{9})$')", rw.Match)
		}
	}
	if c.Store.Path == "" {
		bad("store.path", "is empty; set it like \"/var/lib/celbridge/state.db\"")
	}
	if c.HTTP.Listen != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
			bad("http.listen", "%q is not host:port (write it like \"127.0.0.1:9187\", or \"\" for no HTTP endpoint)", c.HTTP.Listen)
		}
	}
	c.validateAPI(bad)
	if _, err := parseLevel(c.Log.Level); err != nil {
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q is not \"text\" or \"json\"", c.Log.Format)
	}
	return errors.Join(errs...)
}

func (c Config) validateMySQL(bad func(string, string, ...any)) {
	if c.MySQL.DSN == "" {
		bad("mysql.dsn", `is empty; set it like "celbridge:secret@tcp(127.0.0.1:3306)/asteriskcdrdb"`)
	} else if _, err := freepbx.CheckDSN(c.MySQL.DSN); err != nil {
		bad("mysql.dsn", `%v; write it like "celbridge:secret@tcp(127.0.0.1:3306)/asteriskcdrdb" or "celbridge:secret@unix(/run/mysqld/mysqld.sock)/asteriskcdrdb"`, err)
	}
	if c.MySQL.Table == "" || freepbx.CheckTable(c.MySQL.Table) != nil {
		bad("mysql.table", "%q is not a table name (write it like \"cel\" or \"asteriskcdrdb.cel\")", c.MySQL.Table)
	}
	if _, err := time.LoadLocation(c.MySQL.Timezone); err != nil || c.MySQL.Timezone == "" {
		bad("mysql.timezone", "%q is not a time zone (write it like \"Europe/Kyiv\", \"UTC\" or \"Local\")", c.MySQL.Timezone)
	}
	if c.MySQL.BatchSize < 1 || c.MySQL.BatchSize > 100000 {
		bad("mysql.batch_size", "%d is out of range (write a number from 1 to 100000, such as 1000)", c.MySQL.BatchSize)
	}
}

func (c Config) validateCRM(bad func(string, string, ...any)) {
	if c.CRM.URL == "" {
		bad("crm.url", `is empty; set it like "https://clinic.example.com/api/Binotel/Push"`)
	} else if u, err := url.Parse(c.CRM.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("crm.url", `is not an http(s) URL; set it like "https://clinic.example.com/api/Binotel/Push"`)
	}
	if c.CRM.Concurrency < 1 || c.CRM.Concurrency > 64 {
		bad("crm.concurrency", "%d is out of range (write a number from 1 to 64, such as 4)", c.CRM.Concurrency)
	}
	if c.CRM.MaxAttempts < 0 {
		bad("crm.max_attempts", "%d is negative (0 retries forever; write 0 or a positive number)", c.CRM.MaxAttempts)
	}
	if c.CRM.CallID != "digits" && c.CRM.CallID != "linkedid" {
		bad("crm.call_id", "%q is not \"digits\" or \"linkedid\"", c.CRM.CallID)
	}
	if t := c.CRM.Timeout.Duration; t > maxCRMTimeout {
		bad("crm.timeout", "%s is too long: a stop waits for the requests in flight, and systemd kills celbridge 45s after asking it to stop (TimeoutStopSec); write at most \"30s\", such as \"10s\"", t)
	}
	for _, name := range slices.Sorted(maps.Keys(c.CRM.Headers)) {
		if !isToken(name) {
			bad("crm.headers", "%q is not a header name (letters, digits and !#$%%&'*+-.^_`|~ only; write it like X-Api-Key = \"…\")", name)
			continue
		}
		// The value is a secret: say what is wrong with it, never what it is.
		if strings.ContainsFunc(c.CRM.Headers[name], unicode.IsControl) {
			bad("crm.headers."+name, "the value holds a control character (a line break, a tab?), which no request can carry; write it on one line, like %s = \"Bearer <token>\"", name)
		}
	}
}

// maxCRMTimeout bounds crm.timeout: a stop waits for the requests in flight (up to
// crm.timeout) and then records them (up to 10s) within the unit's TimeoutStopSec=45s.
const maxCRMTimeout = 30 * time.Second

// isToken reports whether s is an HTTP header name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func (c Config) validatePBX(bad func(string, string, ...any)) {
	if _, err := regexp.Compile(c.PBX.ExtensionPattern); err != nil || c.PBX.ExtensionPattern == "" {
		bad("pbx.extension_pattern", "%q is not a regular expression (write it like '^[0-9]{2,6}$')", c.PBX.ExtensionPattern)
	}
	if len(c.PBX.InboundContexts) == 0 {
		bad("pbx.inbound_contexts", `is empty; write it like ["from-trunk*", "from-pstn", "from-did-direct"]`)
	}
	for i, p := range c.PBX.OutboundPrefixes {
		if _, err := mapper.ParseOutboundPrefix(p); err != nil {
			bad(fmt.Sprintf("pbx.outbound_prefixes[%d]", i), `%q: %v (write prefix|pattern as in the outbound route's dial pattern, like ["9|0XXXXXXXXX"])`, p, err)
		}
	}
	for i, g := range c.PBX.Groups {
		if g.Number == "" || len(g.Members) == 0 {
			bad(fmt.Sprintf("pbx.groups[%d]", i), `needs number and members (write it like number = "600", members = ["801", "802"])`)
		}
	}
}

// MapperConfig turns the [pbx], [numbers], [crm] and [poll] settings into the mapper's config.
// The config must have been validated.
func (c Config) MapperConfig() mapper.Config {
	m := mapper.DefaultConfig()
	m.ExtensionPattern = regexp.MustCompile(c.PBX.ExtensionPattern)
	m.InboundContexts = c.PBX.InboundContexts
	m.InternalCalls = c.PBX.InternalCalls
	for _, p := range c.PBX.OutboundPrefixes {
		op, _ := mapper.ParseOutboundPrefix(p) // validated
		m.OutboundPrefixes = append(m.OutboundPrefixes, op)
	}
	for _, g := range c.PBX.Groups {
		m.Groups = append(m.Groups, mapper.Group{Number: g.Number, Members: g.Members})
	}
	for _, rw := range c.Numbers.Rewrite {
		m.Rewrites = append(m.Rewrites, mapper.Rewrite{Match: regexp.MustCompile(rw.Match), Replace: rw.Replace})
	}
	m.CallID = c.CRM.CallID
	m.SendTransfers = c.CRM.SendTransfers
	m.EndGrace = c.Poll.EndGrace.Duration
	m.MaxCallAge = c.Poll.MaxCallAge.Duration
	return m
}

// Location returns mysql.timezone as a location.
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.MySQL.Timezone)
	if err != nil {
		return time.Local
	}
	return loc
}

// LogValue keeps secrets out of logs: the DSN's password and the CRM headers' values.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("mysql", freepbx.RedactDSN(c.MySQL.DSN)),
		slog.String("crm_url", redactURL(c.CRM.URL)),
		slog.String("schedule", c.Poll.Schedule),
		slog.String("store", c.Store.Path),
		slog.String("api", c.API.Listen),
		slog.String("ami", c.AMI.Address),
	)
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid URL)"
	}
	return crm.RedactURL(u)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}
