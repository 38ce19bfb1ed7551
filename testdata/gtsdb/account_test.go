package gtsdb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
)

// errConnReset is a database failure that is not a sentinel.
var errConnReset Error = errors.New("read tcp 10.0.0.5:5432: connection reset by peer")

// bunDB is the inner database, shaped like gotosocial's bun layer: it
// returns ErrNoEntries as it is and counts the calls that reach it.
type bunDB struct {
	mu       sync.Mutex
	accounts map[string]*Account
	statuses map[string][]*Status
	failNext bool

	calls map[string]*atomic.Int64
}

func newBunDB() *bunDB {
	db := &bunDB{accounts: map[string]*Account{}, statuses: map[string][]*Status{}, calls: map[string]*atomic.Int64{}}
	for _, m := range []string{"GetAccountByID", "GetAccountStatuses", "UpdateAccount", "PutStatus"} {
		db.calls[m] = new(atomic.Int64)
	}
	db.accounts["01F8"] = &Account{
		ID: "01F8", Username: "admin", EmojiIDs: []string{"E1", "E2"},
		FollowersCount: 3, UpdatedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
	}
	db.statuses["01F8"] = []*Status{{ID: "S1", AccountID: "01F8", Text: "hello"}}
	return db
}

func (db *bunDB) GetAccountByID(ctx context.Context, id string) (*Account, Error) {
	db.calls["GetAccountByID"].Add(1)
	db.mu.Lock()
	defer db.mu.Unlock()
	a, ok := db.accounts[id]
	if !ok {
		return nil, ErrNoEntries
	}
	cp := *a
	cp.EmojiIDs = append([]string(nil), a.EmojiIDs...)
	return &cp, nil
}

func (db *bunDB) GetAccountStatuses(ctx context.Context, account *Account, limit int, maxID string) ([]*Status, Error) {
	db.calls["GetAccountStatuses"].Add(1)
	db.mu.Lock()
	defer db.mu.Unlock()
	var out []*Status
	for _, s := range db.statuses[account.ID] {
		cp := *s
		out = append(out, &cp)
	}
	if len(out) == 0 {
		return nil, ErrNoEntries
	}
	return out, nil
}

func (db *bunDB) UpdateAccount(ctx context.Context, account *Account, columns ...string) Error {
	db.calls["UpdateAccount"].Add(1)
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.failNext {
		db.failNext = false
		return errConnReset
	}
	cp := *account
	db.accounts[account.ID] = &cp
	return nil
}

func (db *bunDB) PutStatus(ctx context.Context, account *Account, status *Status) Error {
	db.calls["PutStatus"].Add(1)
	db.mu.Lock()
	defer db.mu.Unlock()
	db.statuses[account.ID] = append(db.statuses[account.ID], status)
	return nil
}

func setup(t testing.TB) (*CachedAccountDB, *bunDB) {
	t.Helper()
	c, err := zoo.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	db := newBunDB()
	return NewCachedAccountDB(db, c), db
}

func expectCalls(t *testing.T, db *bunDB, method string, want int64) {
	t.Helper()
	if got := db.calls[method].Load(); got != want {
		t.Fatalf("%s reached the database %d times, want %d", method, got, want)
	}
}

// TestNoEntriesIsCached: errors=ErrNoEntries caches the named interface
// Error; the second lookup is a hit and still compares equal to the
// sentinel.
func TestNoEntriesIsCached(t *testing.T) {
	ctx := context.Background()
	db, inner := setup(t)
	for i := range 2 {
		acc, err := db.GetAccountByID(ctx, "missing")
		if acc != nil || err != ErrNoEntries || !errors.Is(err, ErrNoEntries) {
			t.Fatalf("call %d: GetAccountByID = %v, %v", i, acc, err)
		}
	}
	expectCalls(t, inner, "GetAccountByID", 1)
}

// TestUpdateAccount: a failed UpdateAccount (a non-nil Error) leaves the
// cached account in place; a successful one invalidates it.
func TestUpdateAccount(t *testing.T) {
	ctx := context.Background()
	db, inner := setup(t)
	acc, err := db.GetAccountByID(ctx, "01F8")
	if err != nil {
		t.Fatal(err)
	}
	acc.FollowersCount++
	inner.failNext = true
	if err := db.UpdateAccount(ctx, acc, "followers_count"); !errors.Is(err, errConnReset) {
		t.Fatalf("UpdateAccount = %v, want the connection reset", err)
	}
	if got, _ := db.GetAccountByID(ctx, "01F8"); got.FollowersCount != 3 {
		t.Fatalf("after a failed update: FollowersCount = %d, want 3", got.FollowersCount)
	}
	expectCalls(t, inner, "GetAccountByID", 1)

	if err := db.UpdateAccount(ctx, acc, "followers_count"); err != nil {
		t.Fatalf("UpdateAccount: %v", err)
	}
	if got, _ := db.GetAccountByID(ctx, "01F8"); got.FollowersCount != 4 {
		t.Fatalf("after an update: FollowersCount = %d, want 4", got.FollowersCount)
	}
	expectCalls(t, inner, "GetAccountByID", 2)
}

// populate does what gotosocial's callers do after a get: fill in the
// account's emojis from its emoji IDs, and adjust a counter.
func populate(acc *Account, worker int) {
	for _, id := range acc.EmojiIDs {
		acc.Emojis = append(acc.Emojis, &Emoji{ID: id, Shortcode: fmt.Sprintf("e%d", worker)})
	}
	acc.FollowersCount += worker
}

// TestCopyGetThenPopulate: GetAccountByID has copy=true, so goroutines that
// get the account (while it loads, and from the cache) and populate it each
// hold their own: no data race under -race, and the cached account stays as
// the database returned it. Without copy=true the goroutines would share one
// *Account, and this test fails.
func TestCopyGetThenPopulate(t *testing.T) {
	ctx := context.Background()
	db, inner := setup(t)
	var wg sync.WaitGroup
	for round := range 2 { // a cold cache (the load is shared), then hits
		for w := range 8 {
			wg.Go(func() {
				acc, err := db.GetAccountByID(ctx, "01F8")
				if err != nil {
					t.Error(err)
					return
				}
				populate(acc, 1+w+8*round)
				if len(acc.Emojis) != 2 {
					t.Errorf("worker %d sees %d emojis, want its own 2", w, len(acc.Emojis))
				}
			})
		}
		wg.Wait()
	}
	acc, err := db.GetAccountByID(ctx, "01F8")
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.Emojis) != 0 || acc.FollowersCount != 3 || !acc.UpdatedAt.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("the cached account changed: %+v", acc)
	}
	expectCalls(t, inner, "GetAccountByID", 1)
}

// TestWithoutCopyValuesAreShared demonstrates the rule the decorator's doc
// comment states: GetAccountStatuses has no copy=true, so a caller that
// modifies what it got modifies what the next caller gets.
func TestWithoutCopyValuesAreShared(t *testing.T) {
	ctx := context.Background()
	db, inner := setup(t)
	acc := &Account{ID: "01F8"}
	statuses, err := db.GetAccountStatuses(ctx, acc, 20, "")
	if err != nil {
		t.Fatal(err)
	}
	statuses[0].Text = "edited by a caller"
	again, _ := db.GetAccountStatuses(ctx, acc, 20, "")
	if again[0] != statuses[0] || again[0].Text != "edited by a caller" {
		t.Fatalf("a hit of a method without copy=true returned %q, not the shared value", again[0].Text)
	}
	expectCalls(t, inner, "GetAccountStatuses", 1)

	// ErrNoEntries is not listed in errors= for statuses: not cached.
	for range 2 {
		if _, err := db.GetAccountStatuses(ctx, &Account{ID: "nobody"}, 20, ""); err != ErrNoEntries {
			t.Fatalf("GetAccountStatuses(nobody) = %v", err)
		}
	}
	expectCalls(t, inner, "GetAccountStatuses", 3)
}

// TestStatusesKeyedByAccountID shows key=: the statuses of an account are
// keyed by its ID, the limit and the page, not by every field of *Account,
// so the same account with new counters (as a timeline handler passes it
// after a federation update) hits the same entry.
func TestStatusesKeyedByAccountID(t *testing.T) {
	ctx := context.Background()
	db, inner := setup(t)
	acc := &Account{ID: "01F8", FollowersCount: 3}
	if _, err := db.GetAccountStatuses(ctx, acc, 20, ""); err != nil {
		t.Fatal(err)
	}
	updated := *acc
	updated.FollowersCount, updated.StatusesCount = 4, 10
	updated.UpdatedAt = time.Now()
	if _, err := db.GetAccountStatuses(ctx, &updated, 20, ""); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, inner, "GetAccountStatuses", 1)
	if _, err := db.GetAccountStatuses(ctx, &updated, 20, "01F9"); err != nil { // another page
		t.Fatal(err)
	}
	expectCalls(t, inner, "GetAccountStatuses", 2)
}
