package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/health"
	"github.com/celbridge/celbridge/internal/clock"
)

// checkTimeout bounds each check's network work, so a dead host cannot hang check.
const checkTimeout = 5 * time.Second

// checker runs the checks of `celbridge check` and prints one line per check.
type checker struct {
	cfg    Config
	out    io.Writer
	now    func() time.Time
	failed int
	// loginRefused: the server refused mysql.dsn's user or password (a config error: exit 2).
	loginRefused bool
}

// report prints one check's outcome; fix is what to do, printed after the text unless the
// check passed.
func (c *checker) report(outcome health.Outcome, text, fix string) {
	c.add(health.Finding{Outcome: outcome, Text: text, Fix: fix})
}

// add prints findings, one line each, and counts the failed ones.
func (c *checker) add(findings ...health.Finding) {
	for _, f := range findings {
		fmt.Fprintln(c.out, f)
		if f.Fails() {
			c.failed++
		}
	}
}

func (cl commandLine) cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	path := fs.String("config", defaultConfigPath, "configuration file (TOML; see config.example.toml)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c := &checker{out: stdout, now: clock.Now}
	cfg, err := cl.readConfig(*path)
	if err != nil {
		c.report(health.Fail, "config "+*path+" is not valid:\n"+err.Error(), "")
		return usageError{errors.New("the config must be fixed before anything else can be checked")}
	}
	c.cfg = cfg
	c.report(health.Pass, "config "+*path+" is valid", "")
	c.checkConfigMode(*path)
	return c.run(ctx)
}

// run runs the checks of everything the Config names, after the config file's own, and
// returns an error when any failed (a usage error when the login was refused).
func (c *checker) run(ctx context.Context) error {
	c.checkPBX(ctx)
	c.checkCRM(ctx)
	c.checkStore(ctx)
	c.checkAPI(ctx)
	if c.failed > 0 {
		err := fmt.Errorf("%d %s failed; fix %s and run check again", c.failed, plural(c.failed, "check", "checks"), plural(c.failed, "it", "them"))
		if c.loginRefused { // exit 2, as run: the config holds the wrong user or password
			return usageError{err}
		}
		return err
	}
	return nil
}

// checkPBX runs freepbx's probes of the PBX's database.
func (c *checker) checkPBX(ctx context.Context) {
	k := freepbx.Checkup{DSN: c.cfg.MySQL.DSN, Table: c.cfg.MySQL.Table, Zone: c.cfg.MySQL.Timezone,
		Loc: c.cfg.Location(), Timeout: checkTimeout, Now: c.now}
	if c.cfg.FreePBX.Read {
		k.Schema = c.cfg.FreePBX.Database
	}
	findings, refused := k.Run(ctx)
	c.add(findings...)
	c.loginRefused = refused
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
