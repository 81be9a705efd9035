// Package health holds what celbridge says about its own state: the findings of
// `celbridge check` (each package that owns a technology probes it and returns findings:
// freepbx the database, crm the CRM, store the state file, callapi the API's certificate,
// recordings and AMI login) and the rules of /healthz.
package health

import (
	"fmt"
	"time"
)

// Outcome is how one check ended. A warning does not fail check.
type Outcome int

const (
	Pass Outcome = iota
	Warn
	Fail
)

// String is the mark check prints before the finding.
func (o Outcome) String() string {
	switch o {
	case Pass:
		return "✓"
	case Warn:
		return "!"
	}
	return "✗"
}

// Finding is one line of check: what was found and, unless it passed, what to do.
type Finding struct {
	Outcome Outcome
	Text    string
	Fix     string
	// Optional marks a ✗ that does not fail check: an optional feature is off, and the Fix
	// turns it on.
	Optional bool
}

// Fails reports whether f fails check.
func (f Finding) Fails() bool { return f.Outcome == Fail && !f.Optional }

// Passed, Warned and Failed build findings.
func Passed(text string) Finding      { return Finding{Outcome: Pass, Text: text} }
func Warned(text, fix string) Finding { return Finding{Outcome: Warn, Text: text, Fix: fix} }
func Failed(text, fix string) Finding { return Finding{Outcome: Fail, Text: text, Fix: fix} }

// String is the line check prints: the mark, the text and, unless it passed, → the fix.
func (f Finding) String() string {
	line := f.Outcome.String() + " " + f.Text
	if f.Outcome != Pass && f.Fix != "" {
		line += " → " + f.Fix
	}
	return line
}

// Age renders a duration for people: 3s, 4m10s, 2h, 2h5m, 3d4h.
func Age(d time.Duration) string {
	switch {
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		if m := (d % time.Hour) / time.Minute; m != 0 {
			return fmt.Sprintf("%dh%dm", d/time.Hour, m)
		}
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		days := d / (24 * time.Hour)
		return fmt.Sprintf("%dd%dh", days, (d-days*24*time.Hour)/time.Hour)
	}
}
