package article

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
)

// mysqlArticleRepository is the inner repository, shaped like the
// clean-architecture example's: it wraps ErrNotFound with the article's id
// and counts the calls that reach it.
type mysqlArticleRepository struct {
	mu       sync.Mutex
	articles map[int64]Article
	nextID   int64
	lastErr  error // the last error GetByID returned

	calls map[string]*atomic.Int64

	entered chan struct{} // if set, GetByID signals it was entered...
	release chan struct{} // ...and waits for this
}

func newRepo() *mysqlArticleRepository {
	r := &mysqlArticleRepository{articles: map[int64]Article{}, nextID: 1, calls: map[string]*atomic.Int64{}}
	for _, m := range []string{"Fetch", "GetByID", "GetByTitle", "Update", "Store", "Delete"} {
		r.calls[m] = new(atomic.Int64)
	}
	r.Store(context.Background(), &Article{Title: "Makan Ayam", Content: "Rasanya enak", AuthorID: 1})
	r.calls["Store"].Store(0)
	return r
}

func (r *mysqlArticleRepository) Fetch(ctx context.Context, cursor string, num int64) (res []Article, nextCursor string, err error) {
	r.calls["Fetch"].Add(1)
	after, _ := strconv.ParseInt(cursor, 10, 64)
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := after + 1; id < r.nextID && int64(len(res)) < num; id++ {
		if a, ok := r.articles[id]; ok {
			res = append(res, a)
		}
	}
	if len(res) > 0 {
		nextCursor = strconv.FormatInt(res[len(res)-1].ID, 10)
	}
	return res, nextCursor, nil
}

func (r *mysqlArticleRepository) GetByID(ctx context.Context, id int64) (Article, error) {
	r.calls["GetByID"].Add(1)
	if r.entered != nil {
		r.entered <- struct{}{}
		<-r.release
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.articles[id]
	if !ok {
		r.lastErr = fmt.Errorf("article %d: %w", id, ErrNotFound)
		return Article{}, r.lastErr
	}
	return a, nil
}

func (r *mysqlArticleRepository) GetByTitle(ctx context.Context, title string) (Article, error) {
	r.calls["GetByTitle"].Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.articles {
		if a.Title == title {
			return a, nil
		}
	}
	return Article{}, fmt.Errorf("article titled %q: %w", title, ErrNotFound)
}

func (r *mysqlArticleRepository) Update(ctx context.Context, ar *Article) error {
	r.calls["Update"].Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.articles[ar.ID]; !ok {
		return fmt.Errorf("update article %d: %w", ar.ID, ErrNotFound)
	}
	ar.UpdatedAt = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	r.articles[ar.ID] = *ar
	return nil
}

func (r *mysqlArticleRepository) Store(ctx context.Context, a *Article) error {
	r.calls["Store"].Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	a.ID = r.nextID
	r.nextID++
	a.CreatedAt = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	r.articles[a.ID] = *a
	return nil
}

func (r *mysqlArticleRepository) Delete(ctx context.Context, id int64) error {
	r.calls["Delete"].Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.articles, id)
	return nil
}

func setup(t *testing.T) (*CachedArticleRepository, *mysqlArticleRepository, *zoo.Cache) {
	t.Helper()
	c, err := zoo.New(zoo.WithStats(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	inner := newRepo()
	return NewCachedArticleRepository(inner, c), inner, c
}

func expectCalls(t *testing.T, r *mysqlArticleRepository, method string, want int64) {
	t.Helper()
	if got := r.calls[method].Load(); got != want {
		t.Fatalf("%s reached the repository %d times, want %d", method, got, want)
	}
}

// TestGetByIDKeepsTheWrappedMessage: the first call returns the
// repository's own error; the second is a hit whose error keeps the
// message "article 2: not found" and still wraps ErrNotFound.
func TestGetByIDKeepsTheWrappedMessage(t *testing.T) {
	ctx := context.Background()
	repo, inner, _ := setup(t)
	_, err := repo.GetByID(ctx, 2)
	if err == nil || err != inner.lastErr {
		t.Fatalf("first GetByID(2) err = %v, want the repository's own error %v", err, inner.lastErr)
	}
	_, err = repo.GetByID(ctx, 2)
	expectCalls(t, inner, "GetByID", 1)
	if err == nil || err.Error() != "article 2: not found" || !errors.Is(err, ErrNotFound) {
		t.Fatalf("hit GetByID(2) err = %v, want %q wrapping ErrNotFound", err, "article 2: not found")
	}

	// A title is a different message for the same sentinel.
	for range 2 {
		if _, err := repo.GetByTitle(ctx, "Nasi Goreng"); err == nil || err.Error() != `article titled "Nasi Goreng": not found` || !errors.Is(err, ErrNotFound) {
			t.Fatalf("GetByTitle err = %v", err)
		}
	}
	expectCalls(t, inner, "GetByTitle", 1)

	// Storing the article invalidates the cached miss.
	if err := repo.Store(ctx, &Article{Title: "Nasi Goreng", AuthorID: 1}); err != nil {
		t.Fatal(err)
	}
	if a, err := repo.GetByID(ctx, 2); err != nil || a.Title != "Nasi Goreng" {
		t.Fatalf("GetByID(2) after Store = %+v, %v", a, err)
	}
	expectCalls(t, inner, "GetByID", 2)
}

// TestGetByIDJoinerGetsTheMessage: a caller that joined another caller's
// load gets the rebuilt error, with the message; the caller whose load ran
// gets the repository's own.
func TestGetByIDJoinerGetsTheMessage(t *testing.T) {
	repo, inner, c := setup(t)
	inner.entered, inner.release = make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(inner.release) })
	t.Cleanup(release) // before the cache closes, which waits for the load
	first := make(chan error)
	go func() {
		_, err := repo.GetByID(context.Background(), 7)
		first <- err
	}()
	<-inner.entered
	joined := make(chan error)
	go func() {
		_, err := repo.GetByID(context.Background(), 7)
		joined <- err
	}()
	waitCoalesced(t, c, "GetByID", 1)
	release()
	own, rebuilt := <-first, <-joined
	if own != inner.lastErr {
		t.Fatalf("the loading caller got %v, not the repository's own error", own)
	}
	if rebuilt == inner.lastErr || rebuilt.Error() != "article 7: not found" || !errors.Is(rebuilt, ErrNotFound) {
		t.Fatalf("the joining caller got %v", rebuilt)
	}
	expectCalls(t, inner, "GetByID", 1)
}

// TestFetchNamedResults: Fetch's named results (res, nextCursor, err) are
// cached together; a write invalidates the list.
func TestFetchNamedResults(t *testing.T) {
	ctx := context.Background()
	repo, inner, _ := setup(t)
	repo.Store(ctx, &Article{Title: "Sate", AuthorID: 2})
	for range 2 {
		res, next, err := repo.Fetch(ctx, "", 10)
		if err != nil || len(res) != 2 || next != "2" || res[1].Title != "Sate" {
			t.Fatalf("Fetch = %+v, %q, %v", res, next, err)
		}
	}
	expectCalls(t, inner, "Fetch", 1)
	if res, next, _ := repo.Fetch(ctx, "1", 10); len(res) != 1 || next != "2" {
		t.Fatalf("Fetch after 1 = %+v, %q", res, next)
	}
	expectCalls(t, inner, "Fetch", 2)

	ar, _ := repo.GetByID(ctx, 1)
	ar.Title = "Makan Ayam Goreng"
	if err := repo.Update(ctx, &ar); err != nil {
		t.Fatal(err)
	}
	if res, _, _ := repo.Fetch(ctx, "", 10); res[0].Title != "Makan Ayam Goreng" {
		t.Fatalf("Fetch after Update = %+v", res)
	}
	expectCalls(t, inner, "Fetch", 3)

	// A failed write invalidates nothing.
	if err := repo.Update(ctx, &Article{ID: 99}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Update(99) = %v", err)
	}
	repo.Fetch(ctx, "", 10)
	expectCalls(t, inner, "Fetch", 3)
}

// waitCoalesced waits until n callers of method wait for another's load.
func waitCoalesced(t *testing.T, c *zoo.Cache, method string, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range c.Stats().Methods {
			if m.Method == method && m.Coalesced >= n {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s: no caller joined the load", method)
}
