package runtime_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store"
)

func runtimeGoexit() { runtime.Goexit() }

// waitForWaiters waits until n callers wait on the flight of key.
func waitForWaiters(t *testing.T, c *zoo.Cache, key []byte, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for zoo.Waiters(c, string(key)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d callers waiting on %q, want %d", zoo.Waiters(c, string(key)), key, n)
		}
		runtime.Gosched()
	}
}

var errStoreDown = errors.New("store down")

// failingStore fails every call, like a store whose server is unreachable.
type failingStore struct{}

func (failingStore) Get(context.Context, string) (*store.Entry, error) { return nil, errStoreDown }
func (failingStore) Set(context.Context, string, *store.Entry) error   { return errStoreDown }
func (failingStore) Delete(context.Context, string) error              { return errStoreDown }
func (failingStore) Close() error                                      { return nil }
