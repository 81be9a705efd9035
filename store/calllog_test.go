package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/store"
)

// TestCallLog: the events of a call, committed in several transactions and replayed, make one
// entry with what the pushes said; unknown ids are left out; prune removes old calls.
func TestCallLog(t *testing.T) {
	db, _ := openTemp(t)
	ctx := t.Context()
	evs := call(1)
	evs[0].InternalNumber = "600" // a ring group; 801 answered
	evs[2].Recording = "2026/12/02/in-1.wav"
	mustCommit(t, db, 101, evs[:1], 1)
	got, err := db.CallLog(ctx, []string{"17326000001"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Disposition != "" || !got[0].EndedAt.IsZero() {
		t.Fatalf("call in progress: %+v", got)
	}
	mustCommit(t, db, 109, evs[1:], 2)
	mustCommit(t, db, 109, evs, 0) // a replay from the checkpoint
	got, err = db.CallLog(ctx, []string{"nope", "17326000001"})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.CallLogEntry{{
		GeneralCallID: "17326000001", LinkedID: "1732600000.1", CallType: celbridge.Incoming,
		StartedAt: evs[0].Time, AnsweredAt: evs[1].Time, EndedAt: evs[2].Time,
		DIDNumber: "0443334000", ExternalNumber: "0670219424", ReceivedNumber: "600", AnsweredBy: "801",
		DstNumbers: []string{"600", "801"}, Billsec: 42, Disposition: celbridge.DispAnswer,
		Recording: "2026/12/02/in-1.wav", IsNew: true,
	}}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
		t.Fatalf("call log (-want +got):\n%s", d)
	}

	// A later call from the same number is not new.
	mustCommit(t, db, 209, call(2), 3)
	got, err = db.CallLog(ctx, []string{"17326000002", "17326000001"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].IsNew || !got[1].IsNew {
		t.Fatalf("IsNew: %+v", got)
	}

	// A ring group call: the lines in the order they rang, after the group; the trunk.
	g := call(4)
	g[0].InternalNumber, g[1].InternalNumber = "600", "802"
	g[2].Tried, g[2].Trunk = []string{"801", "802", "803"}, "kyivstar"
	mustCommit(t, db, 409, g, 3)
	if got, err := db.CallLog(ctx, []string{"17326000004"}); err != nil || len(got) != 1 ||
		!slices.Equal(got[0].DstNumbers, []string{"600", "801", "802", "803"}) || got[0].Trunk != "kyivstar" {
		t.Fatalf("ring group call: %+v, %v", got, err)
	}

	// Voicemail with a message: VM in the push, VM-SUCCESS in the call details.
	vm := call(3)
	vm[2].Disposition, vm[2].Billsec, vm[2].VoicemailMessage = celbridge.DispVoicemail, 0, true
	mustCommit(t, db, 309, []celbridge.Event{vm[0], vm[2]}, 2)
	if got, err := db.CallLog(ctx, []string{"17326000003"}); err != nil || len(got) != 1 || got[0].Disposition != celbridge.DispVoicemailMessage {
		t.Fatalf("voicemail with a message: %+v, %v; want %s", got, err, celbridge.DispVoicemailMessage)
	}

	if _, err := db.Prune(ctx, evs[2].Time.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err = db.CallLog(ctx, []string{"17326000001", "17326000002"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].GeneralCallID != "17326000002" {
		t.Fatalf("after prune: %+v", got)
	}
}

func TestLinkKey(t *testing.T) {
	db, path := openTemp(t)
	calls := 0
	random := func(b []byte) error {
		calls++
		for i := range b {
			b[i] = byte(i)
		}
		return nil
	}
	k1, err := db.LinkKey(t.Context(), random)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	k2, err := db2.LinkKey(t.Context(), random)
	if err != nil {
		t.Fatal(err)
	}
	if string(k1) != string(k2) || calls != 1 || len(k1) != 64 {
		t.Fatalf("keys %q %q after %d random calls", k1, k2, calls)
	}
}
