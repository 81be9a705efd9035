package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/health"
)

// checkCRM resolves the CRM's host, connects and, for https, completes a TLS handshake. It
// sends no request: a test call would show up in the clinic's CRM.
func (c *checker) checkCRM(ctx context.Context) {
	client := &crm.Client{URL: c.cfg.CRM.URL}
	if err := client.Validate(); err != nil {
		c.report(health.Fail, err.Error(), "")
		return
	}
	u, _ := url.Parse(c.cfg.CRM.URL)
	shown := crm.RedactURL(u)
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if proxy, _ := http.ProxyFromEnvironment(&http.Request{URL: u}); proxy != nil {
		c.checkProxy(ctx, shown, proxy)
		return
	}
	if _, err := net.DefaultResolver.LookupHost(ctx, host); err != nil {
		c.report(health.Fail, "CRM "+shown+": cannot resolve "+host+": "+err.Error(), "check the host name in crm.url and this host's DNS (/etc/resolv.conf)")
		return
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		c.report(health.Fail, "CRM "+shown+": cannot connect: "+err.Error(), "check the port in crm.url and that a firewall lets this host reach it")
		return
	}
	defer conn.Close()
	if u.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: host})
		if err := tc.HandshakeContext(ctx); err != nil {
			c.report(health.Fail, "CRM "+shown+": TLS handshake failed: "+err.Error(), tlsFix(err, host))
			return
		}
		c.report(health.Pass, fmt.Sprintf("CRM %s is reachable (TLS %s, certificate valid for %s; no request sent)", shown, tls.VersionName(tc.ConnectionState().Version), host), "")
		return
	}
	c.report(health.Pass, "CRM "+shown+" is reachable (TCP; no request sent)", "")
}

// checkProxy connects to the proxy that HTTPS_PROXY/HTTP_PROXY name for the CRM, as the
// daemon's requests go through it.
func (c *checker) checkProxy(ctx context.Context, shown string, proxy *url.URL) {
	port := proxy.Port()
	if port == "" {
		port = "80"
		if proxy.Scheme == "https" {
			port = "443"
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(proxy.Hostname(), port))
	if err != nil {
		c.report(health.Fail, "CRM "+shown+": cannot connect to the proxy "+crm.RedactURL(proxy)+": "+err.Error(), "check HTTPS_PROXY/HTTP_PROXY/NO_PROXY in celbridge's environment")
		return
	}
	conn.Close()
	c.report(health.Pass, "CRM "+shown+": the proxy "+crm.RedactURL(proxy)+" is reachable (the CRM behind it is not checked; no request sent)", "")
}

// tlsFix says what to do about a failed TLS handshake.
func tlsFix(err error, host string) string {
	var unknown x509.UnknownAuthorityError
	var invalid x509.HostnameError
	var expired x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return "this host does not trust the CRM's certificate: have the CRM use a certificate from a public CA, or install its CA on this host (copy it to /usr/local/share/ca-certificates/ and run update-ca-certificates)"
	case errors.As(err, &invalid):
		return "the CRM's certificate is not for " + host + ": use the host name the certificate names in crm.url, or fix the certificate"
	case errors.As(err, &expired):
		return "the CRM's certificate is expired or not yet valid: renew it on the CRM, and check this host's clock (timedatectl)"
	}
	return "does the CRM speak https on that port? Check the scheme and port in crm.url"
}
