package crm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
)

// StatusError is a non-2xx answer of the CRM, returned by Client.Push.
type StatusError struct {
	// Code is the HTTP status code.
	Code int
	// Body is the start of the response body, fit to be shown: on one line, at most 512
	// bytes, the client's secrets replaced by "[redacted]" (see Client.Redact) and control
	// characters by spaces.
	Body string
	// Location is where a 3xx answer points (redacted), which celbridge does not follow.
	Location string
}

// Error returns "HTTP <code>: <body>", the text kept in the outbox's last error.
func (e *StatusError) Error() string {
	if e.Code >= 300 && e.Code < 400 {
		return fmt.Sprintf("HTTP %d: crm.url redirects to %s; set crm.url to that address (celbridge does not follow redirects: they would turn the POST into a GET)", e.Code, orNoLocation(e.Location))
	}
	if e.Body == "" {
		return fmt.Sprintf("HTTP %d", e.Code)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Code, e.Body)
}

// IsPermanent reports whether err is a CRM answer that retrying cannot fix: a *StatusError
// (wrapped or not) with a 3xx (a redirect: crm.url is outdated) or a 4xx code other than 408
// Request Timeout and 429 Too Many Requests.
// 5xx, 408, 429, timeouts and network errors are transient; other 4xx mean the request itself
// is refused (bad companyID, auth, validation).
func IsPermanent(err error) bool {
	var se *StatusError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return se.Code >= 300 && se.Code < 500 // a redirect needs crm.url fixed, as a 4xx needs the request fixed
}

// orNoLocation is a redirect's Location, or says there was none.
func orNoLocation(s string) string {
	if s == "" {
		return "(no Location)"
	}
	return s
}

// errClass names the kind of a failure; the log throttle treats failures of one class as the
// same failure, whatever call, port or address they mention.
func errClass(err error) string {
	var se *StatusError
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("HTTP %d", se.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &dns):
		return "dns"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "network"
}
