package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/health"
)

// checkFreePBX shows, for each FreePBX configuration table celbridge reads, whether the user
// can read it, with the GRANT that would let it; and warns when the user can read a table
// that holds passwords. The tables are optional: a missing one does not fail check.
func (c *checker) checkFreePBX(ctx context.Context) {
	if !c.cfg.FreePBX.Read {
		c.report(health.Pass, "FreePBX configuration: not read ([freepbx] read = false); ring groups and route prefixes come from celbridge.toml only", "")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	schema := c.cfg.FreePBX.Database
	st, err := freepbx.Probe(ctx, c.conn, schema)
	if err != nil {
		c.report(health.Warn, "FreePBX configuration: could not check it: "+err.Error(), "")
		return
	}
	user := freepbx.CurrentUser(ctx, c.conn)
	missing := 0
	for _, s := range st {
		if s.Err == nil {
			c.report(health.Pass, fmt.Sprintf("FreePBX %s.%s readable (%s)", schema, s.Table.Name, s.Table.Gives), "")
			continue
		}
		missing++
		// Not counted as a failure: without the table celbridge works as before.
		fmt.Fprintf(c.out, "%s FreePBX %s.%s not readable, so no %s (%s) → %s\n", health.Fail, schema, s.Table.Name, s.Table.Gives, s.Err, s.Table.Grant(schema, user))
	}
	if missing == len(st) {
		c.report(health.Warn, fmt.Sprintf("FreePBX configuration: no table of %s is readable: celbridge works from celbridge.toml only", schema),
			"run the GRANT lines above as root (FreePBX), or set [freepbx] read = false (plain Asterisk)")
	}
	if secrets := freepbx.ReadableSecrets(ctx, c.conn, schema); len(secrets) > 0 {
		c.report(health.Warn, "the user can read FreePBX tables that hold passwords: "+strings.Join(secrets, ", ")+" (celbridge never reads them)",
			fmt.Sprintf("grant only the tables above: REVOKE the wider grant (SHOW GRANTS FOR %s) and run the GRANT lines", freepbx.QuoteAccount(user)))
	}
}
