// Package damage breaks files on purpose, for the tests of what celbridge does with a damaged
// state file (the store's own tests and the commands').
package damage

import (
	"math/rand/v2"
	"os"
	"testing"
)

// Overwrite writes n random bytes (from a fixed seed) at offset off of the file at path.
func Overwrite(t *testing.T, path string, off int64, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(15, 4))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// Size returns the size of the file at path.
func Size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// Truncate cuts the file at path to half its size.
func Truncate(t *testing.T, path string) {
	t.Helper()
	if err := os.Truncate(path, Size(t, path)/2); err != nil {
		t.Fatal(err)
	}
}
