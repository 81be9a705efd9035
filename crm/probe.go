package crm

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/celbridge/celbridge/health"
)

// DefaultProbeTimeout bounds a Probe when Probe.Timeout is zero.
const DefaultProbeTimeout = 5 * time.Second

// Probe checks that the CRM at URL can be reached the way the daemon reaches it: it resolves
// the host, connects and, for https, completes a TLS handshake; through a proxy, it connects
// to the proxy. It sends no request: a test call would show up in the clinic's CRM.
type Probe struct {
	URL string
	// Timeout bounds the whole probe, so that a dead host cannot hang check.
	Timeout time.Duration
	// Proxy picks the proxy for a request as the daemon's transport does; nil means
	// http.ProxyFromEnvironment (which reads the environment once per process).
	Proxy func(*http.Request) (*url.URL, error)
	// RootCAs verifies the CRM's certificate; nil means this host's trusted CAs.
	RootCAs *x509.CertPool
}

// Run probes the CRM and returns one finding: passed with what was reached, or failed with
// what to do. The URL is shown redacted.
func (p Probe) Run(ctx context.Context) health.Finding {
	client := &Client{URL: p.URL}
	if err := client.Validate(); err != nil {
		return health.Failed(err.Error(), "")
	}
	u, _ := url.Parse(p.URL)
	shown := RedactURL(u)
	host, port := u.Hostname(), portOf(u)
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(p.Timeout, DefaultProbeTimeout))
	defer cancel()
	proxyFor := p.Proxy
	if proxyFor == nil {
		proxyFor = http.ProxyFromEnvironment
	}
	if proxy, _ := proxyFor(&http.Request{URL: u}); proxy != nil {
		return probeProxy(ctx, shown, proxy)
	}
	if _, err := net.DefaultResolver.LookupHost(ctx, host); err != nil {
		return health.Failed("CRM "+shown+": cannot resolve "+host+": "+err.Error(), "check the host name in crm.url and this host's DNS (/etc/resolv.conf)")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return health.Failed("CRM "+shown+": cannot connect: "+err.Error(), "check the port in crm.url and that a firewall lets this host reach it")
	}
	defer conn.Close()
	if u.Scheme != "https" {
		return health.Passed("CRM " + shown + " is reachable (TCP; no request sent)")
	}
	tc := tls.Client(conn, &tls.Config{ServerName: host, RootCAs: p.RootCAs})
	if err := tc.HandshakeContext(ctx); err != nil {
		return health.Failed("CRM "+shown+": TLS handshake failed: "+err.Error(), tlsFix(err, host))
	}
	return health.Passed(fmt.Sprintf("CRM %s is reachable (TLS %s, certificate valid for %s; no request sent)", shown, tls.VersionName(tc.ConnectionState().Version), host))
}

// portOf is u's port, or its scheme's default.
func portOf(u *url.URL) string {
	if port := u.Port(); port != "" {
		return port
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// probeProxy connects to the proxy that HTTPS_PROXY/HTTP_PROXY name for the CRM, as the
// daemon's requests go through it.
func probeProxy(ctx context.Context, shown string, proxy *url.URL) health.Finding {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(proxy.Hostname(), portOf(proxy)))
	if err != nil {
		return health.Failed("CRM "+shown+": cannot connect to the proxy "+RedactURL(proxy)+": "+err.Error(), "check HTTPS_PROXY/HTTP_PROXY/NO_PROXY in celbridge's environment")
	}
	conn.Close()
	return health.Passed("CRM " + shown + ": the proxy " + RedactURL(proxy) + " is reachable (the CRM behind it is not checked; no request sent)")
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
