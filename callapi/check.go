package callapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"time"

	"github.com/celbridge/celbridge/ami"
	"github.com/celbridge/celbridge/health"
)

// CheckTLS reports on the API's certificate and key files at now: a warning when none is set
// (the API is served in clear), a failure when they do not load or the certificate has
// expired.
func CheckTLS(certFile, keyFile string, now time.Time) health.Finding {
	if certFile == "" {
		return health.Warned("the API is served without TLS", "set api.tls_cert and api.tls_key, or put a TLS proxy in front")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return health.Failed("api.tls_cert / api.tls_key: "+err.Error(), "give the PEM certificate chain and its private key, readable by celbridge")
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err == nil && now.After(leaf.NotAfter) {
		return health.Failed("the API's TLS certificate expired on "+leaf.NotAfter.Format(time.DateOnly), "renew it (certbot renew) and restart celbridge")
	}
	return health.Passed("the API's TLS certificate loads")
}

// CheckRecordings reports whether the recordings directory, which the recording links serve
// from, can be read.
func CheckRecordings(dir string) health.Finding {
	if _, err := os.ReadDir(dir); err != nil {
		return health.Failed("recordings directory "+dir+" is not readable: "+err.Error(),
			"set pbx.recordings_dir, and let celbridge read it: usermod -aG asterisk celbridge")
	}
	return health.Passed("recordings directory " + dir + " is readable")
}

// CheckAMI logs in to the Asterisk Manager Interface at addr as click-to-call does, then logs
// off (ami.Check), and says what to fix when that fails. It never shows the secret.
func CheckAMI(ctx context.Context, addr, user, secret string) health.Finding {
	err := ami.Check(ctx, addr, user, secret)
	switch {
	case err == nil:
		return health.Passed("AMI login at " + addr + " as " + user + " works (click-to-call)")
	case errors.Is(err, ami.ErrAuth):
		return health.Failed("AMI at "+addr+" refused the login of "+user,
			"check ami.username and ami.secret against FreePBX's Asterisk Manager Users (permit must include this host; read and write need call,originate)")
	}
	return health.Failed("AMI at "+addr+": "+err.Error(), "check ami.address (FreePBX: 127.0.0.1:5038) and that Asterisk runs")
}
