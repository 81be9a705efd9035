package callapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge/callapi"
	"github.com/celbridge/celbridge/health"
	"github.com/celbridge/celbridge/internal/amitest"
	"github.com/celbridge/celbridge/internal/healthtest"
)

// writeCert writes a self-signed certificate valid until notAfter and its key as PEM files.
func writeCert(t *testing.T, notAfter time.Time) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pbx.example"},
		DNSNames: []string{"pbx.example"}, NotBefore: notAfter.AddDate(-1, 0, 0), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for file, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

func TestCheckTLS(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	cert, key := writeCert(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	healthtest.Want(t, callapi.CheckTLS("", "", now), health.Warn, "the API is served without TLS", "api.tls_cert and api.tls_key")
	healthtest.Want(t, callapi.CheckTLS(cert, key, now), health.Pass, "the API's TLS certificate loads")
	healthtest.Want(t, callapi.CheckTLS(cert, key, now.AddDate(1, 0, 0)), health.Fail,
		"the API's TLS certificate expired on 2027-01-01", "certbot renew")
	healthtest.Want(t, callapi.CheckTLS(cert, filepath.Join(t.TempDir(), "none.pem"), now), health.Fail,
		"api.tls_cert / api.tls_key: open", "no such file", "PEM certificate chain and its private key")
	_, otherKey := writeCert(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	healthtest.Want(t, callapi.CheckTLS(cert, otherKey, now), health.Fail, "private key does not match public key")
}

func TestCheckRecordings(t *testing.T) {
	dir := t.TempDir()
	healthtest.Want(t, callapi.CheckRecordings(dir), health.Pass, "recordings directory "+dir+" is readable")
	missing := filepath.Join(dir, "nope")
	healthtest.Want(t, callapi.CheckRecordings(missing), health.Fail,
		"recordings directory "+missing+" is not readable", "no such file", "pbx.recordings_dir", "usermod -aG asterisk celbridge")
}

// TestCheckAMI logs in to a fake Asterisk replaying the captured logins of a real one.
func TestCheckAMI(t *testing.T) {
	ok := amitest.Start(t, "../ami/testdata/login_ok.json")
	healthtest.Want(t, callapi.CheckAMI(t.Context(), ok.Addr(), "celbridge", "secret-redacted"), health.Pass,
		"AMI login at "+ok.Addr()+" as celbridge works (click-to-call)")
	bad := amitest.Start(t, "../ami/testdata/login_bad_secret.json")
	f := callapi.CheckAMI(t.Context(), bad.Addr(), "celbridge", "wrong-secret")
	healthtest.Want(t, f, health.Fail, "AMI at "+bad.Addr()+" refused the login of celbridge", "ami.username and ami.secret")
	if strings.Contains(f.String(), "wrong-secret") {
		t.Errorf("the finding shows the secret: %s", f)
	}
	healthtest.Want(t, callapi.CheckAMI(t.Context(), "127.0.0.1:1", "celbridge", "x"), health.Fail,
		"AMI at 127.0.0.1:1:", "connection refused", "check ami.address (FreePBX: 127.0.0.1:5038) and that Asterisk runs")
}
