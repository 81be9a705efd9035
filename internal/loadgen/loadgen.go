// Package loadgen generates realistic CEL rows for benchmarks and load tests: the real call
// sequences of the mapper's testdata (FreePBX captures), cloned with fresh ids, uniqueids,
// linkedids, channel names, bridge ids and times, and interleaved as concurrent calls are.
//
// A clone keeps its rows' order and relative timing. Rows of one call that share an
// eventtime (a burst Asterisk writes within microseconds, such as a ring group's channels)
// stay together; other calls' bursts interleave between them. The stream is deterministic
// for a seed. For every generated call, Call.Expected gives the events celbridge must send,
// computed by the mapper over the call's own rows.
package loadgen

import (
	"container/heap"
	"fmt"
	"iter"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/mapper"
)

// Group is the ring group the scenarios were captured with (FreePBX group 600 ringing 801,
// 802 and 803).
var Group = mapper.Group{Number: "600", Members: []string{"801", "802", "803"}}

// MapperConfig is the mapper configuration expected events are computed with: the defaults,
// the scenarios' ring group, and transfers sent. A celbridge under test must be configured
// the same way (ConfigTOML).
func MapperConfig() mapper.Config {
	cfg := mapper.DefaultConfig()
	cfg.Groups = []mapper.Group{Group}
	cfg.SendTransfers = true
	return cfg
}

// ConfigTOML is the part of celbridge's config file that matches MapperConfig; add it to a
// file that has no [crm] or [pbx] section of its own. Its [crm] table is left open for more
// keys (url and so on) to follow directly.
const ConfigTOML = `[[pbx.groups]]
number = "600"
members = ["801", "802", "803"]

[crm]
send_transfers = true
`

// Call is one generated call (a clone of a scenario; two scenarios hold two calls that
// belong together, such as an attended transfer's consultation call).
type Call struct {
	Seq       int    // 0-based, in order of start
	Scenario  string // the scenario's name, e.g. "s04-group-answered"
	LinkedIDs []string
	// Rows are the call's rows in id order. IDs are assigned as rows are emitted, so they are
	// final once the call is done (OnCallDone).
	Rows []celbridge.CELRow
	// Start is the wall-clock (virtual) start of the call.
	Start time.Time
}

// Expected returns the events celbridge must send for c with cfg (normally MapperConfig):
// the mapper run over the call's own rows.
func (c *Call) Expected(cfg mapper.Config) []celbridge.Event {
	return mapper.MapAll(cfg, c.Rows)
}

// Burst is rows of one call to be inserted together, at At.
type Burst struct {
	At   time.Time
	Rows []celbridge.CELRow // a sub-slice of Call.Rows, with ids assigned
	Call *Call
	Last bool // the call's last burst
}

// Option configures a Generator.
type Option func(*Generator)

// WithRate sets the mean rate calls start at (a Poisson process); default 2 calls/s.
func WithRate(callsPerSecond float64) Option {
	return func(g *Generator) { g.rate = callsPerSecond }
}

// WithStart sets the time of the stream's beginning; default 2026-01-05 08:00:00 UTC.
// eventtime is written in its location.
func WithStart(t time.Time) Option { return func(g *Generator) { g.start = t } }

// WithFirstID sets the id of the first row; default 1.
func WithFirstID(id int64) Option { return func(g *Generator) { g.nextID = id } }

// WithMaxCalls stops starting calls after n; the stream then ends when they are done.
func WithMaxCalls(n int) Option { return func(g *Generator) { g.maxCalls = n } }

// WithScenarios restricts the calls to scenarios whose name matches re.
func WithScenarios(re *regexp.Regexp) Option { return func(g *Generator) { g.filter = re } }

// OnCallDone is called with each call once its last row is emitted (its ids are final).
func OnCallDone(f func(*Call)) Option { return func(g *Generator) { g.done = f } }

// Generator produces an unbounded (or, with WithMaxCalls or Bulk, bounded) stream of CEL rows
// in id order. It is not safe for concurrent use.
type Generator struct {
	rng       *rand.Rand
	scenarios []*scenario
	rate      float64
	start     time.Time
	nextID    int64
	maxCalls  int
	filter    *regexp.Regexp
	done      func(*Call)

	calls       int           // calls started
	nextArrival time.Duration // virtual time of the next call's start
	queue       burstQueue
	seq         uint64
	chanCounter uint32 // channel-name suffix counter (-%08x)
	uidCounter  int64  // uniqueid counter (<epoch>.<counter>)
	rowsStarted int64  // rows of the calls started so far
	stopped     bool
	open, peak  int
}

// New returns a generator seeded with seed.
func New(seed int64, opts ...Option) *Generator {
	g := &Generator{
		rng:    rand.New(rand.NewPCG(uint64(seed), 0x6c6f616467656e)),
		rate:   2,
		start:  time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC),
		nextID: 1,
	}
	for _, o := range opts {
		o(g)
	}
	all, err := loadScenarios()
	if err != nil {
		panic(err) // embedded data: a test catches it
	}
	for _, s := range all {
		if g.filter == nil || g.filter.MatchString(s.name) {
			g.scenarios = append(g.scenarios, s)
		}
	}
	if len(g.scenarios) == 0 {
		panic("loadgen: no scenario matches the filter")
	}
	// Seed the counters from the seed too, so two generators do not share uniqueids.
	g.chanCounter = uint32(g.rng.IntN(1 << 20))
	g.uidCounter = int64(g.rng.IntN(1 << 20))
	g.nextArrival = g.interarrival()
	return g
}

// ScenarioNames lists the embedded scenarios.
func ScenarioNames() []string {
	all, err := loadScenarios()
	if err != nil {
		panic(err)
	}
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.name
	}
	return names
}

// Stop makes the generator start no more calls; Next then drains the calls already started.
func (g *Generator) Stop() { g.stopped = true }

// PeakOpen is the largest number of calls that had rows emitted but not yet their last one.
func (g *Generator) PeakOpen() int { return g.peak }

// Calls is the number of calls started.
func (g *Generator) Calls() int { return g.calls }

func (g *Generator) interarrival() time.Duration {
	return time.Duration(g.rng.ExpFloat64() / g.rate * float64(time.Second))
}

func (g *Generator) canStart() bool {
	return !g.stopped && (g.maxCalls <= 0 || g.calls < g.maxCalls)
}

// Next returns the next burst of rows in id order; ok is false when the stream ended (no call
// can start and none is open).
func (g *Generator) Next() (b Burst, ok bool) {
	for g.canStart() && (g.queue.Len() == 0 || g.nextArrival <= g.queue[0].at) {
		g.startCall(g.nextArrival)
		g.nextArrival += g.interarrival()
	}
	if g.queue.Len() == 0 {
		return Burst{}, false
	}
	it := heap.Pop(&g.queue).(*queued)
	c := it.call
	span := c.bursts[it.burst]
	rows := c.call.Rows[span[0]:span[1]]
	for i := range rows {
		rows[i].ID = g.nextID
		g.nextID++
	}
	if it.burst == 0 {
		g.open++
		g.peak = max(g.peak, g.open)
	}
	b = Burst{At: g.start.Add(it.at), Rows: rows, Call: c.call, Last: it.burst == len(c.bursts)-1}
	if b.Last {
		g.open--
		if g.done != nil {
			g.done(c.call)
		}
	} else {
		next := it.burst + 1
		g.push(&queued{at: c.start + c.offsets[next], call: c, burst: next})
	}
	return b, true
}

// Bulk yields the rows of calls started until at least n rows were generated, every call
// complete, in batches of up to batch rows in id order. Ids are contiguous.
func (g *Generator) Bulk(n int64, batch int) iter.Seq[[]celbridge.CELRow] {
	return func(yield func([]celbridge.CELRow) bool) {
		buf := make([]celbridge.CELRow, 0, batch)
		for {
			if g.rowsStarted >= n {
				g.Stop()
			}
			b, ok := g.Next()
			if !ok {
				break
			}
			buf = append(buf, b.Rows...)
			if len(buf) >= batch {
				if !yield(buf) {
					return
				}
				buf = make([]celbridge.CELRow, 0, batch)
			}
		}
		if len(buf) > 0 {
			yield(buf)
		}
	}
}

// callState is a started call's schedule.
type callState struct {
	call    *Call
	start   time.Duration // virtual start
	bursts  [][2]int
	offsets []time.Duration // per burst, from start
}

func (g *Generator) startCall(at time.Duration) {
	s := g.scenarios[g.rng.IntN(len(g.scenarios))]
	c := g.clone(s, at)
	c.Seq = g.calls
	g.calls++
	g.rowsStarted += int64(len(c.Rows))
	st := &callState{call: c, start: at, bursts: s.bursts}
	st.offsets = make([]time.Duration, len(s.bursts))
	for i, b := range s.bursts {
		st.offsets[i] = s.rows[b[0]].offset
	}
	g.push(&queued{at: at, call: st, burst: 0})
}

func (g *Generator) push(q *queued) {
	q.seq = g.seq
	g.seq++
	heap.Push(&g.queue, q)
}

// clone makes a fresh copy of s starting at virtual time at.
func (g *Generator) clone(s *scenario, at time.Duration) *Call {
	startWall := g.start.Add(at)
	// eventtime is whole seconds: the clone's first row is at the start's second, and the
	// others keep their offsets, so relative timing is exact.
	first := startWall.Truncate(time.Second)
	vals := make([]string, len(s.tokens))
	for i, t := range s.tokens {
		switch t.kind {
		case tokUniqueID:
			g.uidCounter++
			vals[i] = strconv.FormatInt(first.Unix()+t.epoch, 10) + "." + strconv.FormatInt(g.uidCounter, 10)
		case tokChanSuffix:
			g.chanCounter++
			vals[i] = fmt.Sprintf("-%08x", g.chanCounter)
		case tokBridge:
			vals[i] = g.uuid()
		}
	}
	c := &Call{Scenario: s.name, Start: startWall, Rows: make([]celbridge.CELRow, len(s.rows))}
	for _, i := range s.linkedIDs {
		c.LinkedIDs = append(c.LinkedIDs, vals[i])
	}
	var sb strings.Builder
	for i := range s.rows {
		rt := &s.rows[i]
		r := &c.Rows[i]
		r.EventType = rt.eventType
		r.EventTime = first.Add(rt.offset)
		for j, p := range textPtrs(r) {
			f := &rt.text[j]
			if f.segs == nil {
				*p = f.constant
				continue
			}
			sb.Reset()
			for _, sg := range f.segs {
				if sg.tok < 0 {
					sb.WriteString(sg.lit)
				} else {
					sb.WriteString(vals[sg.tok])
				}
			}
			*p = sb.String()
		}
	}
	return c
}

func (g *Generator) uuid() string {
	const hex = "0123456789abcdef"
	var b [36]byte
	x, y := g.rng.Uint64(), g.rng.Uint64()
	n := 0 // hex digits written
	for i := range b {
		switch i {
		case 8, 13, 18, 23:
			b[i] = '-'
			continue
		}
		if n == 16 {
			x = y
		}
		b[i] = hex[x&15]
		x >>= 4
		n++
	}
	return string(b[:])
}

// queued is a call's next burst in the schedule.
type queued struct {
	at    time.Duration
	seq   uint64
	call  *callState
	burst int
}

type burstQueue []*queued

func (q burstQueue) Len() int { return len(q) }
func (q burstQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q burstQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *burstQueue) Push(x any)   { *q = append(*q, x.(*queued)) }
func (q *burstQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return it
}
