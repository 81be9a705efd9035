package main

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/health"
)

// checkConfigMode warns when the config file holds secrets and every user of the machine may
// read it (a config copied into /etc by hand keeps the umask's 0644). It prints nothing
// otherwise.
func (c *checker) checkConfigMode(path string) {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o004 == 0 {
		return
	}
	secrets := configSecrets(c.cfg)
	if len(secrets) == 0 {
		return
	}
	c.report(health.Warn, fmt.Sprintf("config %s is readable by every user (mode %04o) and holds %s",
		path, fi.Mode().Perm(), strings.Join(secrets, " and ")),
		fmt.Sprintf("chmod 640 %s && chgrp celbridge %s (the group celbridge runs as)", path, path))
}

// configSecrets names the secrets cfg holds: the password in mysql.dsn, one in crm.url, and
// the crm.headers with a value (tokens).
func configSecrets(cfg Config) []string {
	var secrets []string
	if pw, err := freepbx.CheckDSN(cfg.MySQL.DSN); err == nil && pw {
		secrets = append(secrets, "the MySQL password (mysql.dsn)")
	}
	if u, err := url.Parse(cfg.CRM.URL); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			secrets = append(secrets, "a password in crm.url")
		}
	}
	if cfg.API.Secret != "" {
		secrets = append(secrets, "the API secret (api.secret)")
	}
	if cfg.AMI.Secret != "" {
		secrets = append(secrets, "the AMI secret (ami.secret)")
	}
	var headers []string
	for name, value := range cfg.CRM.Headers {
		if value != "" {
			headers = append(headers, name)
		}
	}
	if len(headers) > 0 {
		slices.Sort(headers)
		secrets = append(secrets, "crm.headers values ("+strings.Join(headers, ", ")+")")
	}
	return secrets
}
