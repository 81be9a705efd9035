package crm_test

import (
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/health"
	"github.com/celbridge/celbridge/internal/healthtest"
)

// silentCRM is a CRM that fails the test if it gets a request: a probe sends none.
func silentCRM(t *testing.T, tls bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		t.Errorf("the probe sent %s %s to the CRM", r.Method, r.URL)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

func noProxy(*http.Request) (*url.URL, error) { return nil, nil }

func TestProbe(t *testing.T) {
	t.Parallel()
	tlsCRM, plainCRM := silentCRM(t, true), silentCRM(t, false)
	trusted := x509.NewCertPool()
	trusted.AddCert(tlsCRM.Certificate())
	_, tlsPort, _ := net.SplitHostPort(strings.TrimPrefix(tlsCRM.URL, "https://"))
	closed := closedAddr()
	for _, tc := range []struct {
		name    string
		probe   crm.Probe
		outcome health.Outcome
		parts   []string
	}{
		{"TLSUntrusted", crm.Probe{URL: tlsCRM.URL + "/api/Binotel/Push"},
			health.Fail, []string{"TLS handshake failed", "certificate", "does not trust", "update-ca-certificates"}},
		{"TLSTrusted", crm.Probe{URL: tlsCRM.URL + "/api/Binotel/Push", RootCAs: trusted},
			health.Pass, []string{"CRM https://127.0.0.1:", "TLS 1.3", "certificate valid for 127.0.0.1", "no request sent"}},
		{"TLSOtherHost", crm.Probe{URL: "https://localhost:" + tlsPort + "/push", RootCAs: trusted},
			health.Fail, []string{"TLS handshake failed", "not for localhost", "crm.url"}},
		{"NotTLS", crm.Probe{URL: "https://" + strings.TrimPrefix(plainCRM.URL, "http://") + "/push"},
			health.Fail, []string{"TLS handshake failed", "does the CRM speak https on that port?"}},
		{"HTTP", crm.Probe{URL: plainCRM.URL + "/api/Binotel/Push"},
			health.Pass, []string{"CRM " + plainCRM.URL + "/api/Binotel/Push is reachable (TCP; no request sent)"}},
		{"Refused", crm.Probe{URL: "http://" + closed + "/api/Binotel/Push"},
			health.Fail, []string{"cannot connect", "connection refused", "firewall"}},
		{"Unresolvable", crm.Probe{URL: "http://crm.clinic.invalid/push", Timeout: 2 * time.Second},
			health.Fail, []string{"cannot resolve crm.clinic.invalid", "/etc/resolv.conf"}},
		{"NotHTTP", crm.Probe{URL: "ftp://crm.clinic.invalid/push"},
			health.Fail, []string{"not an absolute http(s) URL"}},
		{"Proxy", crm.Probe{URL: "https://crm.clinic.invalid/api/Binotel/Push", Proxy: proxyAt(plainCRM.URL)},
			health.Pass, []string{"CRM https://crm.clinic.invalid/api/Binotel/Push: the proxy " + plainCRM.URL + " is reachable"}},
		{"ProxyDown", crm.Probe{URL: "https://crm.clinic.invalid/api/Binotel/Push", Proxy: proxyAt("http://" + closed)},
			health.Fail, []string{"cannot connect to the proxy http://" + closed, "HTTPS_PROXY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.probe.Proxy == nil {
				tc.probe.Proxy = noProxy
			}
			healthtest.Want(t, tc.probe.Run(t.Context()), tc.outcome, tc.parts...)
		})
	}
}

// TestProbe_HidesSecrets: the finding shows crm.url without its password or query values.
func TestProbe_HidesSecrets(t *testing.T) {
	t.Parallel()
	closed := closedAddr()
	for _, p := range []crm.Probe{
		{URL: "http://user:hunter2@" + closed + "/push?token=t0ps3cret", Proxy: noProxy},
		{URL: "https://crm.clinic.invalid/push?token=t0ps3cret", Proxy: proxyAt("http://proxy:hunter2@" + closed)},
	} {
		f := p.Run(t.Context())
		if line := f.String(); f.Outcome != health.Fail || strings.Contains(line, "hunter2") || strings.Contains(line, "t0ps3cret") {
			t.Errorf("probe of %s: %s", p.URL, line)
		}
	}
}

func proxyAt(raw string) func(*http.Request) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return http.ProxyURL(u)
}

// closedAddr returns a local address nothing listens on any more.
func closedAddr() string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.Listener.Addr().String()
}
