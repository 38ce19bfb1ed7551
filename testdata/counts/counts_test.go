package counts

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	zoo "github.com/zoogen/zoogen/runtime"
)

// followerTable is the inner store: it counts the calls that reach it, and
// can hold a count query until released, as a slow database does.
type followerTable struct {
	mu        sync.Mutex
	followers map[string]map[string]bool
	counts    atomic.Int64 // calls of CountFollowers

	entered chan struct{} // if set, CountFollowers signals it was entered...
	release chan struct{} // ...and waits for this
}

func (f *followerTable) CountFollowers(ctx context.Context, accountID string) int {
	f.counts.Add(1)
	if f.entered != nil {
		f.entered <- struct{}{}
		<-f.release
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.followers[accountID])
}

func (f *followerTable) Follow(ctx context.Context, accountID, followerID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.followers[accountID] == nil {
		f.followers[accountID] = map[string]bool{}
	}
	f.followers[accountID][followerID] = true
}

func setup(t *testing.T) (*CachedFollowerCounts, *followerTable, *zoo.Cache) {
	t.Helper()
	c, err := zoo.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	inner := &followerTable{followers: map[string]map[string]bool{"a1": {"b": true, "c": true}}}
	return NewCachedFollowerCounts(inner, c), inner, c
}

func TestCountFollowersCached(t *testing.T) {
	ctx := context.Background()
	counts, inner, _ := setup(t)
	if counts.CountFollowers(ctx, "a1") != 2 || counts.CountFollowers(ctx, "a1") != 2 {
		t.Fatal("CountFollowers")
	}
	counts.Follow(ctx, "a1", "d")
	if n := counts.CountFollowers(ctx, "a1"); n != 3 {
		t.Fatalf("CountFollowers after Follow = %d", n)
	}
	if got := inner.counts.Load(); got != 2 {
		t.Fatalf("CountFollowers reached the store %d times, want 2", got)
	}
}

// TestContextEndedWhileWaitingCallsOnce: a caller whose context ends while
// it waits for another caller's load returns the zero value: the method has
// no error result to say so, and the decorator does not ask the store a
// second time.
func TestContextEndedWhileWaitingCallsOnce(t *testing.T) {
	counts, inner, _ := setup(t)
	inner.entered, inner.release = make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(inner.release) })
	t.Cleanup(release) // before the cache closes, which waits for the load
	first := make(chan int)
	go func() { first <- counts.CountFollowers(context.Background(), "a1") }()
	<-inner.entered // the first caller's load is running
	inner.entered = nil

	// A caller whose context has ended joins the running load: it returns
	// at once, as one whose context ends while it waits does.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	waited := make(chan int)
	go func() { waited <- counts.CountFollowers(ctx, "a1") }()
	if n := <-waited; n != 0 {
		t.Fatalf("CountFollowers with an ended context = %d, want 0", n)
	}
	release()
	if n := <-first; n != 2 {
		t.Fatalf("the first caller got %d, want 2", n)
	}
	if got := inner.counts.Load(); got != 1 {
		t.Fatalf("CountFollowers reached the store %d times, want 1", got)
	}
}
