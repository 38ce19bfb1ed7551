package keys

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	zoo "github.com/zoogen/zoogen/runtime"
)

// fakeDB is the inner database: it counts the calls that reach it.
type fakeDB struct {
	mu       sync.Mutex
	accounts map[string]*Account
	statuses []*Status // oldest first
	calls    map[string]*atomic.Int64
}

func newFakeDB() *fakeDB {
	db := &fakeDB{accounts: map[string]*Account{}, calls: map[string]*atomic.Int64{}}
	for _, m := range []string{"GetAccountStatuses", "GetPublicTimeline", "GetAccountByUsernameDomain", "GetFollowers", "UpdateAccount", "PutStatus"} {
		db.calls[m] = new(atomic.Int64)
	}
	db.accounts["01A"] = &Account{ID: "01A", Username: "anna", Domain: "example.org", FollowersCount: 10}
	db.accounts["01B"] = &Account{ID: "01B", Username: "bo", Domain: "example.org"}
	return db
}

func (db *fakeDB) GetAccountStatuses(ctx context.Context, account *Account, limit int, maxID string) ([]*Status, error) {
	db.calls["GetAccountStatuses"].Add(1)
	db.mu.Lock()
	defer db.mu.Unlock()
	var page []*Status
	for _, s := range slices.Backward(db.statuses) {
		if s.AccountID == account.ID && (maxID == "" || s.ID < maxID) && len(page) < limit {
			page = append(page, s)
		}
	}
	return page, nil
}

func (db *fakeDB) GetPublicTimeline(ctx context.Context, requester *Account, limit int) ([]*Status, error) {
	db.calls["GetPublicTimeline"].Add(1)
	db.mu.Lock()
	defer db.mu.Unlock()
	var page []*Status
	for _, s := range slices.Backward(db.statuses) {
		if len(page) < limit {
			page = append(page, s)
		}
	}
	return page, nil
}

func (db *fakeDB) GetAccountByUsernameDomain(ctx context.Context, username, domain string) (*Account, error) {
	db.calls["GetAccountByUsernameDomain"].Add(1)
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, a := range db.accounts {
		if a.Username == username && a.Domain == domain {
			cp := *a
			return &cp, nil
		}
	}
	return nil, fmt.Errorf("account %s@%s: %w", username, domain, ErrNoEntries)
}

func (db *fakeDB) GetFollowers(ctx context.Context, account *Account, page *Page, progress func(n int)) ([]*Account, error) {
	db.calls["GetFollowers"].Add(1)
	if page == nil {
		page = &Page{Limit: 20}
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	var out []*Account
	for _, id := range slices.Sorted(maps.Keys(db.accounts)) {
		if id != account.ID && id > page.MaxID && len(out) < page.Limit {
			out = append(out, db.accounts[id])
			if progress != nil {
				progress(len(out))
			}
		}
	}
	return out, nil
}

func (db *fakeDB) UpdateAccount(ctx context.Context, account *Account, columns ...string) error {
	db.calls["UpdateAccount"].Add(1)
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.accounts[account.ID]; !ok {
		return fmt.Errorf("update account %s: %w", account.ID, ErrNoEntries)
	}
	cp := *account
	db.accounts[account.ID] = &cp
	return nil
}

func (db *fakeDB) PutStatus(ctx context.Context, accountID, text string) (*Status, error) {
	db.calls["PutStatus"].Add(1)
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.accounts[accountID]; !ok {
		return nil, fmt.Errorf("put status: account %s: %w", accountID, ErrNoEntries)
	}
	s := &Status{ID: fmt.Sprintf("%04d", len(db.statuses)+1), AccountID: accountID, Text: text}
	db.statuses = append(db.statuses, s)
	return s, nil
}

func setup(t *testing.T) (*CachedStatusDB, *fakeDB) {
	t.Helper()
	c, err := zoo.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	db := newFakeDB()
	return NewCachedStatusDB(db, c), db
}

func expectCalls(t *testing.T, db *fakeDB, method string, want int64) {
	t.Helper()
	if got := db.calls[method].Load(); got != want {
		t.Fatalf("%s reached the database %d times, want %d", method, got, want)
	}
}

// TestKeyIgnoresCounters: the key is the account's ID, the limit and maxID;
// an *Account whose counters or emojis changed still hits the same entry.
func TestKeyIgnoresCounters(t *testing.T) {
	ctx := context.Background()
	db, inner := setup(t)
	if _, err := db.PutStatus(ctx, "01A", "hello"); err != nil {
		t.Fatal(err)
	}
	anna := &Account{ID: "01A", Username: "anna", FollowersCount: 10}
	page, err := db.GetAccountStatuses(ctx, anna, 20, "")
	if err != nil || len(page) != 1 {
		t.Fatalf("GetAccountStatuses = %v, %v", page, err)
	}
	// The caller populates the account and a follow lands: same call.
	anna.FollowersCount++
	anna.StatusesCount = 1
	anna.Emojis = []*Emoji{{ID: "01E", Shortcode: "blob"}}
	again := *anna
	again.FetchedAt = again.FetchedAt.Add(1)
	for _, a := range []*Account{anna, &again} {
		if _, err := db.GetAccountStatuses(ctx, a, 20, ""); err != nil {
			t.Fatal(err)
		}
	}
	expectCalls(t, inner, "GetAccountStatuses", 1)

	// The values key= lists make other entries.
	db.GetAccountStatuses(ctx, anna, 10, "")
	db.GetAccountStatuses(ctx, anna, 20, "0001")
	db.GetAccountStatuses(ctx, &Account{ID: "01B"}, 20, "")
	expectCalls(t, inner, "GetAccountStatuses", 4)
}

// TestNilRequester: a nil *Account keys as nil, apart from every account.
func TestNilRequester(t *testing.T) {
	ctx := context.Background()
	db, inner := setup(t)
	for range 2 {
		if _, err := db.GetPublicTimeline(ctx, nil, 20); err != nil {
			t.Fatal(err)
		}
	}
	expectCalls(t, inner, "GetPublicTimeline", 1)
	db.GetPublicTimeline(ctx, &Account{ID: ""}, 20) // an empty ID is not nil
	db.GetPublicTimeline(ctx, &Account{ID: "01A"}, 20)
	db.GetPublicTimeline(ctx, &Account{ID: "01A", FollowingCount: 3}, 20)
	expectCalls(t, inner, "GetPublicTimeline", 3)
}

// TestPutStatusInvalidatesByResult: the created status's AccountID, a named
// result, names the tag; a failed put invalidates nothing.
func TestPutStatusInvalidatesByResult(t *testing.T) {
	ctx := context.Background()
	db, inner := setup(t)
	anna, bo := &Account{ID: "01A"}, &Account{ID: "01B"}
	db.GetAccountStatuses(ctx, anna, 20, "")
	db.GetAccountStatuses(ctx, bo, 20, "")
	db.GetPublicTimeline(ctx, nil, 20)
	if _, err := db.PutStatus(ctx, "01A", "first post"); err != nil {
		t.Fatal(err)
	}
	page, _ := db.GetAccountStatuses(ctx, anna, 20, "")
	if len(page) != 1 || page[0].Text != "first post" {
		t.Fatalf("after the put, anna's page is %v", page)
	}
	db.GetAccountStatuses(ctx, bo, 20, "")
	expectCalls(t, inner, "GetAccountStatuses", 3) // anna again, bo still cached
	db.GetPublicTimeline(ctx, nil, 20)
	expectCalls(t, inner, "GetPublicTimeline", 2)

	if _, err := db.PutStatus(ctx, "01Z", "nobody"); !errors.Is(err, ErrNoEntries) {
		t.Fatalf("PutStatus for a missing account: %v, want ErrNoEntries", err)
	}
	db.GetPublicTimeline(ctx, nil, 20)
	expectCalls(t, inner, "GetPublicTimeline", 2)
}

// TestLookupTaggedByResult: a lookup by name is tagged with the ID it found,
// so an update of that account expires it; a miss is not cached.
func TestLookupTaggedByResult(t *testing.T) {
	ctx := context.Background()
	db, inner := setup(t)
	for range 2 {
		a, err := db.GetAccountByUsernameDomain(ctx, "anna", "example.org")
		if err != nil || a.ID != "01A" {
			t.Fatalf("GetAccountByUsernameDomain = %+v, %v", a, err)
		}
	}
	expectCalls(t, inner, "GetAccountByUsernameDomain", 1)
	db.GetAccountByUsernameDomain(ctx, "bo", "example.org")
	expectCalls(t, inner, "GetAccountByUsernameDomain", 2)

	if err := db.UpdateAccount(ctx, &Account{ID: "01A", Username: "anna", Domain: "example.org", Locked: true}, "locked"); err != nil {
		t.Fatal(err)
	}
	a, _ := db.GetAccountByUsernameDomain(ctx, "anna", "example.org")
	if !a.Locked {
		t.Fatal("the lookup served the account from before the update")
	}
	db.GetAccountByUsernameDomain(ctx, "bo", "example.org")
	expectCalls(t, inner, "GetAccountByUsernameDomain", 3) // anna again, bo still cached

	for range 2 {
		if _, err := db.GetAccountByUsernameDomain(ctx, "nobody", "example.org"); !errors.Is(err, ErrNoEntries) {
			t.Fatalf("lookup of a missing account: %v, want ErrNoEntries", err)
		}
	}
	expectCalls(t, inner, "GetAccountByUsernameDomain", 5)
}

// TestKeyByMethodAndPointers: <account.Handle> calls a method, <page.Limit>
// and <page.MaxID> go through a pointer that may be nil, and the progress
// callback, which cannot be keyed, is left out of the key.
func TestKeyByMethodAndPointers(t *testing.T) {
	ctx := context.Background()
	db, inner := setup(t)
	anna := &Account{ID: "01A", Username: "anna", Domain: "example.org"}
	var seen atomic.Int64
	for _, progress := range []func(int){nil, func(int) { seen.Add(1) }, func(int) {}} {
		if _, err := db.GetFollowers(ctx, anna, nil, progress); err != nil {
			t.Fatal(err)
		}
	}
	expectCalls(t, inner, "GetFollowers", 1)
	db.GetFollowers(ctx, anna, &Page{Limit: 20}, nil) // not the nil page's entry
	db.GetFollowers(ctx, &Account{ID: "01A", Username: "anna", Domain: "example.org", FollowersCount: 1}, &Page{Limit: 20}, nil)
	expectCalls(t, inner, "GetFollowers", 2)
	db.GetFollowers(ctx, anna, &Page{Limit: 20, MaxID: "01A"}, nil)
	db.GetFollowers(ctx, &Account{ID: "01A", Username: "anna", Domain: "social.example"}, &Page{Limit: 20}, nil)
	expectCalls(t, inner, "GetFollowers", 4)
	if err := db.UpdateAccount(ctx, anna); err != nil {
		t.Fatal(err)
	}
	db.GetFollowers(ctx, anna, nil, nil)
	expectCalls(t, inner, "GetFollowers", 5)
}
