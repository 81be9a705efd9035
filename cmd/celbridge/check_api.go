package main

import (
	"context"
	"fmt"

	"github.com/celbridge/celbridge/callapi"
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
		c.add(callapi.CheckTLS(a.TLSCert, a.TLSKey, c.now()), callapi.CheckRecordings(c.cfg.PBX.RecordingsDir))
		if len(a.Allow) == 0 {
			c.report(health.Warn, "api.allow is empty: any address may call the API", `list the CRM's addresses, like allow = ["203.0.113.7"]`)
		}
	}
	if c.cfg.AMI.Address != "" {
		actx, cancel := context.WithTimeout(ctx, 2*checkTimeout)
		defer cancel()
		c.add(callapi.CheckAMI(actx, c.cfg.AMI.Address, c.cfg.AMI.Username, c.cfg.AMI.Secret))
	} else if a.Listen != "" {
		c.report(health.Warn, "click-to-call is off ([ami] address is empty)", "set [ami] address, username and secret to let the CRM dial")
	}
}
