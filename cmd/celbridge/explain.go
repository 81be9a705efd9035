package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/mapper"
	"github.com/celbridge/celbridge/store"
)

// cmdExplain prints one call's CEL rows and each request they produce, with the rule that
// decided it. It reads the database like the poller (SELECT only) and needs no CRM; when the
// store exists it also shows what was delivered.
func (cl commandLine) cmdExplain(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	var id string
	a, err := cl.setup("explain", args, stderr, nil, &id)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, a.Close()) }()
	return a.Explain(ctx, id, stdout)
}

// Explain prints the call id (a linkedid or a generalCallID). The caller closes a.
func (a *App) Explain(ctx context.Context, id string, stdout io.Writer) error {
	if err := a.openSource(ctx); err != nil {
		return err
	}
	linkedid := a.resolveCallID(ctx, id)
	rows, err := a.Source.ReadCall(ctx, linkedid)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("no CEL rows with linkedid %s (give a linkedid such as 1795652928.0 or a generalCallID such as 17956529280)", shown(linkedid))
	}
	fmt.Fprintf(stdout, "Call %s (generalCallID %s): %d CEL rows, ids %d..%d\n\n",
		shown(linkedid), mapper.GeneralCallID(linkedid, a.Config.CRM.CallID), len(rows), rows[0].ID, rows[len(rows)-1].ID)
	printRows(stdout, rows)

	a.openFreePBX(ctx)
	events := mapper.MapAll(a.mapperConfig(), rows)
	fmt.Fprintf(stdout, "\nRequests to the CRM, each with the row and rule that decided it:\n")
	if len(events) == 0 {
		fmt.Fprintf(stdout, "  none: no trunk leg or phone made it a call with the outside world (phone to phone with pbx.internal_calls = %v, a feature code, an originate that dialed nothing), or its start is not in these rows\n", a.Config.PBX.InternalCalls)
	}
	states := a.deliveryStates(ctx, linkedid)
	for _, e := range events {
		other := ""
		if e.LinkedID != linkedid {
			// A call joined to this one by a transfer (rows found through shared uniqueids).
			other = "  (call " + shown(e.LinkedID) + ")"
		}
		// The form is URL-encoded: it shows exactly what is sent, and no control character.
		fmt.Fprintf(stdout, "  row %-6d %s%s\n", e.CELID, celbridge.EncodeForm(e.Fields(a.Config.CRM.CompanyID)), other)
		fmt.Fprintf(stdout, "             why: %s\n", shown(e.Rule))
		if s, ok := states[e.IdempotencyKey()]; ok {
			fmt.Fprintf(stdout, "             outbox: %s\n", s)
		}
	}
	if a.FreePBX != nil {
		printWhoIsWho(stdout, a.FreePBX.Last(), events)
	}
	return nil
}

// printWhoIsWho names the numbers of the requests that FreePBX's configuration knows: the
// employees, groups and queues, and the DID's inbound route.
func printWhoIsWho(w io.Writer, c *freepbx.Config, events []celbridge.Event) {
	if c == nil {
		return
	}
	names := map[string]string{}
	for ext, name := range c.Names {
		names[ext] = name + " (FreePBX user)"
	}
	for _, g := range c.RingGroups {
		names[g.Number] = "ring group " + g.Description + ": " + strings.Join(g.Members, ", ") + " (FreePBX)"
	}
	for _, q := range c.Queues {
		names[q.Number] = "queue " + q.Description + ": " + strings.Join(q.Members, ", ") + " (FreePBX)"
	}
	seen := map[string]bool{}
	var lines []string
	for _, e := range events {
		if d := e.DIDNumber; d != "" && !seen[d] && c.DIDs[d] != "" {
			seen[d] = true
			lines = append(lines, fmt.Sprintf("  %s: DID of inbound route %q (FreePBX)", d, c.DIDs[d]))
		}
		if n := e.InternalNumber; n != "" && !seen[n] && names[n] != "" {
			seen[n] = true
			lines = append(lines, "  "+n+": "+names[n])
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\nWho is who, from FreePBX's configuration:\n%s\n", strings.Join(lines, "\n"))
	}
}

// resolveCallID turns a generalCallID into a linkedid: through the store when it knows the
// call, else by putting back the dot after the 10-digit epoch.
func (a *App) resolveCallID(ctx context.Context, id string) string {
	if strings.Contains(id, ".") || celbridge.DigitsOnly(id) != id {
		return id
	}
	if _, err := os.Stat(a.Config.Store.Path); err == nil {
		if db, err := store.OpenReadOnly(ctx, a.Config.Store.Path); err == nil {
			defer db.Close()
			if c, _, err := db.Call(ctx, id); err == nil {
				return c.LinkedID
			}
		}
	}
	if len(id) > 10 {
		return id[:10] + "." + id[10:]
	}
	return id
}

// deliveryStates reads what the store knows of the call's requests, by idempotency key.
func (a *App) deliveryStates(ctx context.Context, linkedid string) map[string]string {
	states := map[string]string{}
	if _, err := os.Stat(a.Config.Store.Path); err != nil {
		return states
	}
	db, err := store.OpenReadOnly(ctx, a.Config.Store.Path)
	if err != nil {
		return states
	}
	defer db.Close()
	_, entries, err := db.Call(ctx, linkedid)
	if err != nil {
		return states
	}
	redact := storedTextRedactor(a.Config)
	for _, e := range entries {
		states[e.Key] = outboxState(e, redact)
	}
	return states
}

// outboxState describes an outbox row for people. Its last error holds the start of the
// CRM's answer: older versions stored it as received, so it is redacted again and escaped.
func outboxState(e store.Entry, redact func(string) string) string {
	s := shown(e.State)
	switch {
	case e.State == store.StateDelivered:
		s += " " + e.DeliveredAt.Local().Format("2006-01-02 15:04:05")
	case e.LastError != "":
		s += fmt.Sprintf(" after %d attempts, last error: %s", e.Attempts, shown(redact(e.LastError)))
	}
	return s
}

// storedTextRedactor returns what hides the configured CRM secrets (crm.headers values,
// crm.url credentials) in a stored text, as the CRM client does in what it stores.
func storedTextRedactor(cfg Config) func(string) string {
	return (&crm.Client{URL: cfg.CRM.URL, Headers: cfg.CRM.Headers}).Redact
}

// printRows prints CEL rows as a compact table. DTMF rows' extra is hidden: it holds the
// digits a caller typed, PINs included. Every field is escaped (see shown): a caller ID name
// or a channel variable can hold anything, terminal escape sequences included.
func printRows(w io.Writer, rows []celbridge.CELRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "  id\ttime\tevent\tchannel\tcid_num\texten\tcontext\tapp\tlinkedid\textra / peer")
	for _, r := range rows {
		extra := compactExtra(r.Extra)
		if r.EventType == "DTMF" {
			extra = "(hidden)"
		}
		if r.Peer != "" {
			extra = strings.TrimSpace(extra + " peer=" + r.Peer)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.EventTime.Format("15:04:05"), shown(r.EventType),
			shown(r.ChanName), shown(r.CIDNum), shown(r.Exten), shown(r.Context), cut(shown(r.AppName+" "+r.AppData), 40),
			shown(r.LinkedID), cut(shown(extra), 90))
	}
	tw.Flush()
}

// compactExtra shortens CEL's extra JSON for a table: key=value pairs, bridge ids cut to
// their first 8 characters. Text that is not a JSON object is shown as is.
func compactExtra(extra string) string {
	var m map[string]any
	if json.Unmarshal([]byte(extra), &m) != nil {
		return extra
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := fmt.Sprint(m[k])
		if strings.HasSuffix(k, "bridge_id") || strings.HasSuffix(k, "bridge1_id") || strings.HasSuffix(k, "bridge2_id") {
			v = cut(v, 9)
		}
		if v == "" {
			continue
		}
		fmt.Fprintf(&b, "%s=%s ", strings.TrimPrefix(k, "bridge_"), v)
	}
	return strings.TrimSpace(b.String())
}

// cut shortens s to n bytes at most, ending in "…", without splitting a character.
func cut(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	i := n - 1
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// shown returns s fit for the operator's terminal: a backslash is doubled, invalid UTF-8 and
// characters that are not printable (control characters such as ESC, CR, LF, TAB; invisible
// format characters such as bidi overrides) are written as Go escapes (\x1b, \n, \u202e,
// \xff). Printable text, Cyrillic included, is shown as is, without quotes.
func shown(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r == '\\' || r == utf8.RuneError || !strconv.IsPrint(r) }) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case strconv.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r) // '\x1b', '\n', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}
