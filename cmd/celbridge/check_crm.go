package main

import (
	"context"

	"github.com/celbridge/celbridge/crm"
)

// checkCRM reports whether the CRM can be reached, without sending it a request.
func (c *checker) checkCRM(ctx context.Context) {
	c.add(crm.Probe{URL: c.cfg.CRM.URL, Timeout: checkTimeout}.Run(ctx))
}
