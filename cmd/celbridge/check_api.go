package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/celbridge/celbridge/ami"
	"github.com/celbridge/celbridge/health"
)

// checkAPI checks what the CRM's API needs: its key and secret, TLS files, the recordings
// directory, and an AMI login when click-to-call is on. It prints nothing when the API is off
// and [ami] is unset.
func (c *checker) checkAPI(ctx context.Context) {
	a := c.cfg.API
	if a.Listen != "" {
		// Validate has refused an empty key or a short secret already.
		c.report(health.Pass, fmt.Sprintf("API on %s: key and secret set, links at %s", a.Listen, a.PublicURL), "")
		c.checkTLS()
		c.checkRecordings()
		if len(a.Allow) == 0 {
			c.report(health.Warn, "api.allow is empty: any address may call the API", `list the CRM's addresses, like allow = ["203.0.113.7"]`)
		}
	}
	if c.cfg.AMI.Address != "" {
		actx, cancel := context.WithTimeout(ctx, 2*checkTimeout)
		defer cancel()
		err := ami.Check(actx, c.cfg.AMI.Address, c.cfg.AMI.Username, c.cfg.AMI.Secret)
		switch {
		case err == nil:
			c.report(health.Pass, "AMI login at "+c.cfg.AMI.Address+" as "+c.cfg.AMI.Username+" works (click-to-call)", "")
		case errors.Is(err, ami.ErrAuth):
			c.report(health.Fail, "AMI at "+c.cfg.AMI.Address+" refused the login of "+c.cfg.AMI.Username,
				"check ami.username and ami.secret against FreePBX's Asterisk Manager Users (permit must include this host; read and write need call,originate)")
		default:
			c.report(health.Fail, "AMI at "+c.cfg.AMI.Address+": "+err.Error(),
				"check ami.address (FreePBX: 127.0.0.1:5038) and that Asterisk runs")
		}
	} else if a.Listen != "" {
		c.report(health.Warn, "click-to-call is off ([ami] address is empty)", "set [ami] address, username and secret to let the CRM dial")
	}
}

func (c *checker) checkTLS() {
	a := c.cfg.API
	if a.TLSCert == "" {
		c.report(health.Warn, "the API is served without TLS", "set api.tls_cert and api.tls_key, or put a TLS proxy in front")
		return
	}
	cert, err := tls.LoadX509KeyPair(a.TLSCert, a.TLSKey)
	if err != nil {
		c.report(health.Fail, "api.tls_cert / api.tls_key: "+err.Error(), "give the PEM certificate chain and its private key, readable by celbridge")
		return
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err == nil && c.now().After(leaf.NotAfter) {
		c.report(health.Fail, "the API's TLS certificate expired on "+leaf.NotAfter.Format(time.DateOnly), "renew it (certbot renew) and restart celbridge")
		return
	}
	c.report(health.Pass, "the API's TLS certificate loads", "")
}

func (c *checker) checkRecordings() {
	dir := c.cfg.PBX.RecordingsDir
	if _, err := os.ReadDir(dir); err != nil {
		c.report(health.Fail, "recordings directory "+dir+" is not readable: "+err.Error(),
			"set pbx.recordings_dir, and let celbridge read it: usermod -aG asterisk celbridge")
		return
	}
	c.report(health.Pass, "recordings directory "+dir+" is readable", "")
}
