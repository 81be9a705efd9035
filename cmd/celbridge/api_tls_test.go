package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge/internal/clitest"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key as PEM files.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pbx.test"},
		// The real clock, not internal/clock: TLS clients check validity against it.
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestRun_APITLS: with api.tls_cert and api.tls_key the API speaks only TLS, with that
// certificate.
func TestRun_APITLS(t *testing.T) {
	certFile, keyFile, pool := writeCert(t)
	addr := freePort(t)
	s := newSite(t, opts{extra: fmt.Sprintf("[api]\nlisten = %q\nkey = %q\nsecret = %q\npublic_url = \"https://%s\"\ntls_cert = %q\ntls_key = %q\n",
		addr, apiKey, apiSecret, addr, certFile, keyFile)})
	d := startRun(t, s.config)
	clitest.WaitFor(t, 20*time.Second, "the API to listen", func() bool { return strings.Contains(d.log.String(), "serving the CRM API") })
	if !strings.Contains(d.log.String(), "tls=true") {
		t.Fatalf("the API does not say it serves TLS:\n%s", d.log)
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Post("https://"+addr+"/stats/call-details.json", "application/json", strings.NewReader(`{"generalCallID":[1]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(body), `"code":120`) {
		t.Fatalf("over TLS: %d %s, want the unsigned request refused", resp.StatusCode, body)
	}
	if resp, err := http.Post("http://"+addr+"/stats/call-details.json", "application/json", strings.NewReader(`{}`)); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP got %d, want TLS only", resp.StatusCode)
		}
	}
}
