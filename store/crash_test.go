package store_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge/store"
)

// crashEnv names the state file for the child process of TestCommit_SurvivesKill.
const crashEnv = "CELBRIDGE_STORE_CRASH_CHILD"

// TestCommit_SurvivesKill runs a child process that commits batches (cursor i with call i's
// three events) while delivering, SIGKILLs it at a random moment, reopens the store and checks
// that every batch the child saw committed is there, that no batch is partial, and that the
// head flags Due relies on are consistent. Each round continues from the checkpoint.
func TestCommit_SurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	path := filepath.Join(t.TempDir(), "celbridge.db")
	for round := 1; round <= 3; round++ {
		acked := runAndKill(t, path, 20+rand.IntN(60))
		checkAfterCrash(t, path, acked)
	}
}

// runAndKill starts the child, kills it after it reported n commits and returns the last batch
// it reported committed.
func runAndKill(t *testing.T, path string, n int) int64 {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked int64
	lines := bufio.NewScanner(out)
	for seen := 0; seen < n && lines.Scan(); {
		if v, ok := strings.CutPrefix(lines.Text(), "committed "); ok {
			acked, _ = strconv.ParseInt(v, 10, 64)
			seen++
		}
	}
	// Land anywhere in the next commit; SIGKILL runs no deferred code and no Close.
	time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	go func() {
		for lines.Scan() { // drain what the child wrote before it died
		}
	}()
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child exited with %v, want killed (did it fail? see its stderr)", err)
	}
	if acked == 0 {
		t.Fatal("child reported no commit")
	}
	return acked
}

func checkAfterCrash(t *testing.T, path string, acked int64) {
	t.Helper()
	ctx := t.Context()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cursor, ok, err := db.Checkpoint(ctx)
	if err != nil || !ok || cursor < acked {
		t.Fatalf("checkpoint = %d, %v, %v; the child saw batch %d committed", cursor, ok, err, acked)
	}
	var rows, calls, incomplete int
	err = store.SQL(db).QueryRowContext(ctx, `SELECT count(*), count(DISTINCT linked_id),
		(SELECT count(*) FROM (SELECT linked_id FROM outbox GROUP BY linked_id HAVING count(*) != 3))
		FROM outbox`).Scan(&rows, &calls, &incomplete)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 3*int(cursor) || calls != int(cursor) || incomplete != 0 {
		t.Fatalf("after kill: cursor %d but %d outbox rows in %d calls, %d incomplete; want every batch whole",
			cursor, rows, calls, incomplete)
	}
	checkHeads(t, db)
	t.Logf("killed after batch %d; store has %d batches, consistent", acked, cursor)
}

// TestCrashChild is the child process of TestCommit_SurvivesKill; it does nothing otherwise.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process of TestCommit_SurvivesKill")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	go deliverLoop(ctx, db)
	cursor, _, err := db.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute) // never outlive a lost parent for long
	for i := cursor + 1; time.Now().Before(deadline); i++ {
		if _, err := db.Commit(ctx, i, call(int(i))); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("committed %d\n", i)
	}
}

// deliverLoop marks due events delivered, with a retry now and then, as the dispatcher would.
func deliverLoop(ctx context.Context, db *store.DB) {
	for n := 0; ; n++ {
		due, err := db.Due(ctx, time.Now(), 10)
		if err != nil {
			panic(err)
		}
		if len(due) == 0 {
			time.Sleep(time.Millisecond)
		}
		for _, d := range due {
			if n%3 == 0 {
				err = db.Retry(ctx, d.ID, d.Attempts+1, time.Now(), "HTTP 503")
			} else {
				err = db.Delivered(ctx, d.ID, time.Now())
			}
			if err != nil {
				panic(err)
			}
		}
	}
}
