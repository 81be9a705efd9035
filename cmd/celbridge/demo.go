package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/mapper"
	"github.com/celbridge/celbridge/store"
)

// demoCalls are real CEL rows of FreePBX-style calls captured from Asterisk 22 (see the
// file's "source"); the demo replays them through the whole pipeline.
//
//go:embed demo_calls.json
var demoCalls []byte

// demoFreePBX is the sample clinic's FreePBX configuration (testdata/freepbx) as
// freepbx.Read reads it from the asterisk database (TestDemoFreePBXIsTheSample): the demo
// uses it as the daemon would, instead of repeating the ring group in celbridge.toml.
//
//go:embed demo_freepbx.json
var demoFreePBX []byte

type demoData struct {
	Source string `json:"source"`
	Calls  []struct {
		Scenario  string   `json:"scenario"`
		Title     string   `json:"title"`
		LinkedIDs []string `json:"linkedids"`
	} `json:"calls"`
	Rows []celbridge.CELRow `json:"rows"`
}

// demoSource serves the embedded rows like the CEL table would.
type demoSource struct{ rows []celbridge.CELRow }

func (s demoSource) ReadAfter(_ context.Context, after int64, limit int) ([]celbridge.CELRow, error) {
	i := sort.Search(len(s.rows), func(i int) bool { return s.rows[i].ID > after })
	return s.rows[i:min(i+limit, len(s.rows))], nil
}

func (s demoSource) ReadIDs(context.Context, []int64) ([]celbridge.CELRow, error) { return nil, nil }

func (s demoSource) MaxID(context.Context) (int64, error) {
	if len(s.rows) == 0 {
		return 0, nil
	}
	return s.rows[len(s.rows)-1].ID, nil
}

// cmdDemo replays the bundled calls through mapper, store and crm into a receiver on
// loopback and prints what the CRM gets. It needs no PBX, database or CRM.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("demo", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var data demoData
	if err := json.Unmarshal(demoCalls, &data); err != nil {
		return fmt.Errorf("read bundled demo calls: %w", err)
	}
	for i := range data.Rows { // the bundled calls are a selection: number them without gaps
		data.Rows[i].ID = int64(i + 1)
	}
	recv, err := startReceiver()
	if err != nil {
		return err
	}
	defer recv.close()

	dir, err := os.MkdirTemp("", "celbridge-demo-")
	if err != nil {
		return fmt.Errorf("create demo directory: %w", err)
	}
	defer os.RemoveAll(dir)
	cfg := DefaultConfig()
	cfg.CRM.URL = recv.url
	cfg.CRM.CompanyID = "3041"
	cfg.Store.Path = filepath.Join(dir, "state.db")
	cfg.Log.Level = "warn"
	var pbx freepbx.Config
	if err := json.Unmarshal(demoFreePBX, &pbx); err != nil {
		return fmt.Errorf("read bundled FreePBX configuration: %w", err)
	}
	a := &App{Config: cfg, Logger: newLogger(cfg.Log, stderr, nil)}
	defer func() { err = errors.Join(err, a.Close()) }()
	if a.Store, err = store.Open(ctx, cfg.Store.Path); err != nil {
		return err
	}
	if _, err := a.Store.Commit(ctx, 0, nil); err != nil { // start at the first bundled row, not the newest
		return err
	}

	fmt.Fprintf(stdout, "celbridge demo: %d real CEL rows of %d calls (%s)\n", len(data.Rows), len(data.Calls), data.Source)
	printFreePBX(stdout, &pbx)
	fmt.Fprintf(stdout, "\nWhat the CRM received at %s (POST, application/x-www-form-urlencoded), per call in arrival order:\n", recv.url)

	d := a.dispatcher()
	mcfg, _ := pbx.MapperConfig(cfg.MapperConfig())
	p := a.poller(mapper.New(mcfg), nil)
	p.Source = demoSource{data.Rows}
	p.BatchSize = 20
	if err := p.Tick(ctx); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	delivered, failed, err := d.Drain(ctx)
	if err != nil {
		return err
	}
	for _, c := range data.Calls {
		id := mapper.GeneralCallID(c.LinkedIDs[0], cfg.CRM.CallID)
		fmt.Fprintf(stdout, "\n  call %s: %s\n", id, c.Title)
		for _, body := range recv.calls[id] {
			fmt.Fprintf(stdout, "    %s\n", body)
		}
		if len(recv.calls[id]) == 0 {
			fmt.Fprintf(stdout, "    (nothing: not a call with the outside world)\n")
		}
	}
	fmt.Fprintf(stdout, "\n%d CEL rows read, %d requests delivered, %d failed. Internal calls (801 -> 802) are not sent.\n",
		p.Stats().RowsRead.Load(), delivered, failed)
	if failed > 0 {
		return fmt.Errorf("%d demo requests failed", failed)
	}
	return nil
}

// printFreePBX shows the FreePBX configuration the demo uses, as run would read it.
func printFreePBX(w io.Writer, c *freepbx.Config) {
	fmt.Fprintf(w, "\nFreePBX configuration of the sample clinic, as celbridge reads it from the asterisk database ([freepbx]):\n")
	for _, g := range c.RingGroups {
		fmt.Fprintf(w, "  ring group %s (%s): %s\n", g.Number, g.Description, strings.Join(g.Members, ", "))
	}
	for _, q := range c.Queues {
		fmt.Fprintf(w, "  queue %s (%s): %s\n", q.Number, q.Description, strings.Join(q.Members, ", "))
	}
	for _, r := range c.Routes {
		fmt.Fprintf(w, "  outbound route %s: %s|%s\n", r.Name, r.Prefix, r.Match)
	}
	for ext, nums := range c.FollowMe {
		fmt.Fprintf(w, "  follow-me of %s: %s\n", ext, strings.Join(nums, ", "))
	}
}

// receiver is the demo's stand-in for the CRM: it prints every request it gets.
type receiver struct {
	url   string
	srv   *http.Server
	mu    sync.Mutex
	calls map[string][]string // request bodies by generalCallID, in arrival order
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the demo CRM: %w", err)
	}
	r := &receiver{url: "http://" + ln.Addr().String() + "/api/Binotel/Push", calls: map[string][]string{}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<16))
	form, err := url.ParseQuery(string(body))
	if err != nil || req.Method != http.MethodPost {
		http.Error(w, "want a form POST", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	id := form.Get("generalCallID")
	r.calls[id] = append(r.calls[id], string(body))
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) close() { r.srv.Close() }
