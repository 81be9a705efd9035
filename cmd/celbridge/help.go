package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// commandHelp is what `celbridge COMMAND -h` says above the flags: the arguments as the
// top-level usage shows them (TestCommandHelp keeps the two in step) and what it does.
var commandHelp = map[string]struct{ args, about string }{
	"run":      {"-config FILE", "The daemon: polls CEL, pushes events to the CRM, serves /metrics and /healthz.\nsystemd runs it (etc/celbridge.service)."},
	"once":     {"-config FILE", "One poll and one delivery pass (for cron); exits non-zero if anything failed."},
	"backfill": {"-config FILE -from TIME [-to TIME] [-dry-run]", "Rebuilds and sends the calls that started in a range of time (or of CEL ids:\n-from-id/-to-id). Safe beside the running daemon and safe to repeat: nothing is sent twice."},
	"explain":  {"-config FILE ID", "Shows the CEL rows of one call (ID: a linkedid or a generalCallID) and each request\nmade of them, with why."},
	"check":    {"-config FILE", "Checks the config, the MySQL account and its grants, CEL, the CRM's reachability and\nthe store; exits 0 if all pass. Sends no request to the CRM and creates no store."},
	"status":   {"-config FILE [-json]", "Shows the cursor, the lag, open calls, the outbox and the last CRM error; safe while\nrun runs."},
	"retry":    {"-config FILE [ID]", "Re-queues events parked as failed."},
	"demo":     {"", "Replays bundled sample calls into a built-in CRM receiver; needs no PBX."},
	"version":  {"", "Prints the version and build information (also: celbridge --version)."},
}

// usageFunc prints the usage line and description of command name, then its flags.
func usageFunc(fs *flag.FlagSet, name string, w io.Writer) func() {
	return func() {
		h := commandHelp[name]
		fmt.Fprintf(w, "Usage: %s\n\n%s\n", strings.TrimSpace("celbridge "+name+" "+h.args), h.about)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
}
