package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"time"

	"github.com/celbridge/celbridge/ami"
	"github.com/celbridge/celbridge/callapi"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/store"
)

// Compile-time checks of the API's adapters.
var (
	_ callapi.CallLog    = callLog{}
	_ callapi.Originator = (*ami.Client)(nil)
)

// callLog serves the API's call log from the store.
type callLog struct{ db *store.DB }

func (l callLog) Calls(ctx context.Context, ids []string) ([]callapi.Call, error) {
	entries, err := l.db.CallLog(ctx, ids)
	if err != nil {
		return nil, err
	}
	calls := make([]callapi.Call, len(entries))
	for i, e := range entries {
		calls[i] = callapi.Call(e)
	}
	return calls, nil
}

// apiServer builds the API from the config, and the AMI client when [ami] is set (the
// caller runs it). The store must be open.
func (a *App) apiServer(ctx context.Context) (*callapi.Server, *ami.Client, error) {
	c := a.Config
	key, err := a.Store.LinkKey(ctx, func(b []byte) error { _, err := rand.Read(b); return err })
	if err != nil {
		return nil, nil, err
	}
	var allow []netip.Prefix
	for _, s := range c.API.Allow {
		p, _ := parsePrefix(s) // validated
		allow = append(allow, p)
	}
	pattern := regexp.MustCompile(c.PBX.ExtensionPattern)
	employees := map[string]callapi.Employee{}
	var didNames, trunkNumbers map[string]string
	if pbx := a.pbxConfig(); pbx != nil { // FreePBX's users and inbound routes, as read at start
		for ext, name := range pbx.Names {
			employees[ext] = callapi.Employee{Name: name}
		}
		didNames, trunkNumbers = pbx.DIDs, pbx.TrunkCIDs
	}
	for _, e := range c.Employees { // [[employees]] wins, and adds the e-mails
		employees[e.Extension] = callapi.Employee{Name: e.Name, Email: e.Email}
	}
	srv := &callapi.Server{
		Key: c.API.Key, Secret: c.API.Secret, Calls: callLog{a.Store}, CompanyID: c.CRM.CompanyID,
		Employees: employees, DIDNames: didNames, TrunkNumbers: trunkNumbers, RecordingsDir: c.PBX.RecordingsDir, PublicURL: c.API.PublicURL,
		LinkKey: key, Allow: allow, MaxBody: c.API.MaxBody, BadLimit: c.API.BadSignatures,
		Now: clock.Now, Logger: a.Logger.With("component", "api"),
		// With [[employees]] or FreePBX's users, click-to-call rings only those; else any
		// extension.
		Extension: func(ext string) bool {
			if len(employees) > 0 {
				_, ok := employees[ext]
				return ok
			}
			return pattern.MatchString(ext)
		},
	}
	var client *ami.Client
	if c.AMI.Address != "" {
		client = &ami.Client{Addr: c.AMI.Address, Username: c.AMI.Username, Secret: c.AMI.Secret,
			Logger: a.Logger.With("component", "ami")}
		srv.Originator = client
	}
	return srv, client, nil
}

// serveAPI listens on api.listen (TLS when configured) and serves srv until ctx ends.
func (a *App) serveAPI(ctx context.Context, srv *callapi.Server) (stop func(), err error) {
	c := a.Config.API
	var cfg *tls.Config
	if c.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load api.tls_cert and api.tls_key: %w (both PEM files, readable by celbridge)", err)
		}
		cfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on api.listen %s: %w (is the port taken? set another one)", c.Listen, err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		// Recordings are streamed: a slow link may take minutes for a long call.
		WriteTimeout:   10 * time.Minute,
		IdleTimeout:    60 * time.Second,
		MaxHeaderBytes: 16 << 10,
		ErrorLog:       nil,
		BaseContext:    func(net.Listener) context.Context { return ctx },
	}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.Logger.Error("api server stopped", "err", err)
		}
	}()
	if cfg == nil && !loopback(ln.Addr()) {
		a.Logger.Warn("the API is served without TLS on a public address; set api.tls_cert and api.tls_key, or put a TLS proxy in front", "addr", ln.Addr().String())
	}
	if len(c.Allow) == 0 {
		a.Logger.Warn("api.allow is empty: any address may call the API (signatures still checked); list the CRM's addresses")
	}
	a.Logger.Info("serving the CRM API", "addr", ln.Addr().String(), "tls", cfg != nil, "click_to_call", srv.Originator != nil)
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}, nil
}

func loopback(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
