package sqlc

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
)

// fakeQuerier stands in for *Queries over a database: it implements sqlc's
// Querier, nothing more, and counts the calls that reach it.
type fakeQuerier struct {
	mu      sync.Mutex
	authors []Author
	nextID  int64
	now     time.Time
	calls   map[string]*atomic.Int64
}

var _ Querier = (*fakeQuerier)(nil)

func newFakeQuerier() *fakeQuerier {
	q := &fakeQuerier{nextID: 1, now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), calls: map[string]*atomic.Int64{}}
	for _, m := range []string{"CreateAuthor", "DeleteAuthor", "GetAuthor", "ListAuthors", "ListAuthorsBornAfter", "ListAuthorsByIDs", "UpdateAuthorBio"} {
		q.calls[m] = new(atomic.Int64)
	}
	return q
}

func (q *fakeQuerier) CreateAuthor(ctx context.Context, arg CreateAuthorParams) (Author, error) {
	q.calls["CreateAuthor"].Add(1)
	q.mu.Lock()
	defer q.mu.Unlock()
	if arg.Name == "" {
		return Author{}, fmt.Errorf("insert author: %w", sql.ErrNoRows) // what a violated constraint looks like to sqlc: no row returned
	}
	a := Author{ID: q.nextID, Name: arg.Name, Bio: arg.Bio, CreatedAt: q.now.Add(time.Duration(q.nextID) * time.Hour)}
	q.nextID++
	q.authors = append(q.authors, a)
	return a, nil
}

func (q *fakeQuerier) DeleteAuthor(ctx context.Context, id int64) error {
	q.calls["DeleteAuthor"].Add(1)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.authors = slices.DeleteFunc(q.authors, func(a Author) bool { return a.ID == id })
	return nil
}

func (q *fakeQuerier) GetAuthor(ctx context.Context, id int64) (Author, error) {
	q.calls["GetAuthor"].Add(1)
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, a := range q.authors {
		if a.ID == id {
			return a, nil
		}
	}
	return Author{}, sql.ErrNoRows
}

func (q *fakeQuerier) ListAuthors(ctx context.Context) ([]Author, error) {
	q.calls["ListAuthors"].Add(1)
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.authors), nil
}

func (q *fakeQuerier) ListAuthorsBornAfter(ctx context.Context, arg ListAuthorsBornAfterParams) ([]Author, error) {
	q.calls["ListAuthorsBornAfter"].Add(1)
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Author
	for _, a := range q.authors {
		if a.Bio == arg.Bio && a.CreatedAt.After(arg.CreatedAt) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (q *fakeQuerier) ListAuthorsByIDs(ctx context.Context, ids []int64) ([]Author, error) {
	q.calls["ListAuthorsByIDs"].Add(1)
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Author
	for _, a := range q.authors {
		if slices.Contains(ids, a.ID) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (q *fakeQuerier) UpdateAuthorBio(ctx context.Context, arg UpdateAuthorBioParams) error {
	q.calls["UpdateAuthorBio"].Add(1)
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := range q.authors {
		if q.authors[i].ID == arg.ID {
			q.authors[i].Bio = arg.Bio
			return nil
		}
	}
	return fmt.Errorf("update bio of author %d: %w", arg.ID, sql.ErrNoRows)
}

func setup(t *testing.T) (*CachedStore, *fakeQuerier) {
	t.Helper()
	c, err := zoo.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fake := newFakeQuerier()
	// Any Querier is a Store: Store only redeclares Querier's methods.
	var q Querier = fake
	return NewCachedStore(q, c), fake
}

func expectCalls(t *testing.T, q *fakeQuerier, method string, want int64) {
	t.Helper()
	if got := q.calls[method].Load(); got != want {
		t.Fatalf("%s reached the database %d times, want %d", method, got, want)
	}
}

func bio(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }

// TestQueriesIsAStore: sqlc's own *Queries wraps as it is.
func TestQueriesIsAStore(t *testing.T) {
	c, err := zoo.New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var db *sql.DB // sqlc.New takes any DBTX; nothing is queried here
	var _ Store = NewCachedStore(New(db), c)
}

func TestGetAuthorCached(t *testing.T) {
	ctx := context.Background()
	st, q := setup(t)
	created, err := st.CreateAuthor(ctx, CreateAuthorParams{Name: "Ursula", Bio: bio("Earthsea")})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		a, err := st.GetAuthor(ctx, created.ID)
		if err != nil || a.Name != "Ursula" {
			t.Fatalf("GetAuthor = %+v, %v", a, err)
		}
	}
	expectCalls(t, q, "GetAuthor", 1)
}

// TestCreateInvalidatesByResult: the tag author:<result.ID> names the row
// the insert returned; a GetAuthor of that ID cached before the insert (a
// miss, sql.ErrNoRows, is not cached) and the lists tagged authors reload.
func TestCreateInvalidatesByResult(t *testing.T) {
	ctx := context.Background()
	st, q := setup(t)
	first, _ := st.CreateAuthor(ctx, CreateAuthorParams{Name: "Ursula"})
	st.GetAuthor(ctx, first.ID)
	list, _ := st.ListAuthorsByIDs(ctx, []int64{1, 2})
	if len(list) != 1 {
		t.Fatalf("ListAuthorsByIDs = %v", list)
	}
	second, err := st.CreateAuthor(ctx, CreateAuthorParams{Name: "Octavia", Bio: bio("Kindred")})
	if err != nil || second.ID != 2 {
		t.Fatalf("CreateAuthor = %+v, %v", second, err)
	}
	list, _ = st.ListAuthorsByIDs(ctx, []int64{1, 2})
	if len(list) != 2 {
		t.Fatalf("after the insert, ListAuthorsByIDs = %v, want both authors", list)
	}
	expectCalls(t, q, "ListAuthorsByIDs", 2)
	st.GetAuthor(ctx, first.ID)
	expectCalls(t, q, "GetAuthor", 1) // author:1 is not under author:2

	// A failed insert invalidates nothing.
	if _, err := st.CreateAuthor(ctx, CreateAuthorParams{}); err == nil {
		t.Fatal("want the insert's error")
	}
	st.ListAuthorsByIDs(ctx, []int64{1, 2})
	expectCalls(t, q, "ListAuthorsByIDs", 2)
}

// TestCreateExpiresTheNewID: an entry tagged author:<id> for the ID the
// insert returns is expired by it. The entry is left by an earlier author
// with that ID, removed behind the cache's back by a restore.
func TestCreateExpiresTheNewID(t *testing.T) {
	ctx := context.Background()
	st, q := setup(t)
	st.CreateAuthor(ctx, CreateAuthorParams{Name: "Ursula"})
	if _, err := st.GetAuthor(ctx, 1); err != nil {
		t.Fatal(err)
	}
	q.mu.Lock()
	q.authors = nil
	q.nextID = 1 // a restored database hands out ID 1 again
	q.mu.Unlock()
	st.CreateAuthor(ctx, CreateAuthorParams{Name: "Octavia"})
	a, _ := st.GetAuthor(ctx, 1)
	if a.Name != "Octavia" {
		t.Fatalf("GetAuthor(1) = %q after the insert that returned ID 1, want Octavia", a.Name)
	}
	expectCalls(t, q, "GetAuthor", 2)
}

// TestBornAfterKeyedByNullStringAndTime: sql.NullString and time.Time
// arguments key the entry by value.
func TestBornAfterKeyedByNullStringAndTime(t *testing.T) {
	ctx := context.Background()
	st, q := setup(t)
	st.CreateAuthor(ctx, CreateAuthorParams{Name: "Ursula", Bio: bio("Earthsea")})
	since := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for range 2 {
		got, err := st.ListAuthorsBornAfter(ctx, ListAuthorsBornAfterParams{Bio: bio("Earthsea"), CreatedAt: since})
		if err != nil || len(got) != 1 {
			t.Fatalf("ListAuthorsBornAfter = %v, %v", got, err)
		}
	}
	// The same instant in another location is the same key.
	st.ListAuthorsBornAfter(ctx, ListAuthorsBornAfterParams{Bio: bio("Earthsea"), CreatedAt: since.In(time.FixedZone("CEST", 2*3600))})
	expectCalls(t, q, "ListAuthorsBornAfter", 1)
	for _, arg := range []ListAuthorsBornAfterParams{
		{Bio: bio("Earthsea"), CreatedAt: since.Add(time.Second)},
		{Bio: sql.NullString{}, CreatedAt: since},                   // NULL
		{Bio: sql.NullString{String: "Earthsea"}, CreatedAt: since}, // NULL too, with a leftover string
	} {
		st.ListAuthorsBornAfter(ctx, arg)
	}
	expectCalls(t, q, "ListAuthorsBornAfter", 4)
}

// TestListAuthorsPassesThrough: a method Store does not redeclare is
// Querier's, called every time.
func TestListAuthorsPassesThrough(t *testing.T) {
	ctx := context.Background()
	st, q := setup(t)
	st.CreateAuthor(ctx, CreateAuthorParams{Name: "Ursula"})
	for range 3 {
		if got, err := st.ListAuthors(ctx); err != nil || len(got) != 1 {
			t.Fatalf("ListAuthors = %v, %v", got, err)
		}
	}
	expectCalls(t, q, "ListAuthors", 3)
}

func TestUpdateAndDeleteInvalidate(t *testing.T) {
	ctx := context.Background()
	st, q := setup(t)
	a, _ := st.CreateAuthor(ctx, CreateAuthorParams{Name: "Ursula", Bio: bio("Earthsea")})
	b, _ := st.CreateAuthor(ctx, CreateAuthorParams{Name: "Octavia"})
	st.GetAuthor(ctx, a.ID)
	st.GetAuthor(ctx, b.ID)
	if err := st.UpdateAuthorBio(ctx, UpdateAuthorBioParams{ID: a.ID, Bio: bio("The Dispossessed")}); err != nil {
		t.Fatal(err)
	}
	got, _ := st.GetAuthor(ctx, a.ID)
	if got.Bio.String != "The Dispossessed" {
		t.Fatalf("after the update, bio %q", got.Bio.String)
	}
	st.GetAuthor(ctx, b.ID)
	expectCalls(t, q, "GetAuthor", 3) // a again, b still cached

	if err := st.UpdateAuthorBio(ctx, UpdateAuthorBioParams{ID: 99}); err == nil {
		t.Fatal("want the update's error")
	}
	if err := st.DeleteAuthor(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetAuthor(ctx, b.ID); err != sql.ErrNoRows {
		t.Fatalf("GetAuthor of a deleted author: %v, want sql.ErrNoRows", err)
	}
}
