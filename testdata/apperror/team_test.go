package apperror

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	zoo "github.com/zoogen/zoogen/runtime"
)

// errConnRefused is what the database driver says during an outage.
var errConnRefused = errors.New("dial tcp 10.0.0.5:5432: connect: connection refused")

// sqlTeamStore is the inner store, shaped like mattermost's SqlTeamStore:
// every failure is an *AppError, and success returns a nil *AppError. It
// counts the calls that reach it.
type sqlTeamStore struct {
	mu    sync.Mutex
	teams map[string]*Team
	down  bool // the database is unreachable

	calls map[string]*atomic.Int64

	entered chan struct{} // if set, Get signals it was entered...
	release chan struct{} // ...and waits for this
}

func newSQLTeamStore() *sqlTeamStore {
	s := &sqlTeamStore{teams: map[string]*Team{}, calls: map[string]*atomic.Int64{}}
	for _, m := range []string{"Get", "GetByName", "Update", "Delete"} {
		s.calls[m] = new(atomic.Int64)
	}
	s.teams["t1"] = &Team{ID: "t1", Name: "core", DisplayName: "Core"}
	return s
}

func (s *sqlTeamStore) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func (s *sqlTeamStore) Get(ctx context.Context, id string) (*Team, *AppError) {
	s.calls["Get"].Add(1)
	if s.entered != nil {
		s.entered <- struct{}{}
		<-s.release
	}
	if err := ctx.Err(); err != nil {
		return nil, NewAppError("SqlTeamStore.Get", "store.sql_team.get.app_error", http.StatusRequestTimeout, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, NewAppError("SqlTeamStore.Get", "store.sql_team.get.app_error", http.StatusInternalServerError, errConnRefused)
	}
	t, ok := s.teams[id]
	if !ok {
		return nil, NewAppError("SqlTeamStore.Get", "store.sql_team.get.find.app_error", http.StatusNotFound, ErrTeamNotFound)
	}
	cp := *t
	return &cp, nil // a nil *AppError: the typed nil the decorator must keep nil
}

func (s *sqlTeamStore) GetByName(ctx context.Context, name string) (*Team, *AppError) {
	s.calls["GetByName"].Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.teams {
		if t.Name == name {
			cp := *t
			return &cp, nil
		}
	}
	return nil, NewAppError("SqlTeamStore.GetByName", "store.sql_team.get_by_name.missing.app_error", http.StatusNotFound, ErrTeamNotFound)
}

func (s *sqlTeamStore) Update(ctx context.Context, team *Team) (*Team, *AppError) {
	s.calls["Update"].Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, NewAppError("SqlTeamStore.Update", "store.sql_team.update.app_error", http.StatusInternalServerError, errConnRefused)
	}
	if _, ok := s.teams[team.ID]; !ok {
		return nil, NewAppError("SqlTeamStore.Update", "store.sql_team.update.find.app_error", http.StatusBadRequest, ErrTeamNotFound)
	}
	cp := *team
	cp.UpdateAt++
	s.teams[team.ID] = &cp
	out := cp
	return &out, nil
}

func (s *sqlTeamStore) Delete(ctx context.Context, id string) *AppError {
	s.calls["Delete"].Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.teams, id)
	return nil
}

func setup(t *testing.T) (*CachedTeamStore, *sqlTeamStore, *zoo.Cache) {
	t.Helper()
	c, err := zoo.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	inner := newSQLTeamStore()
	return NewCachedTeamStore(inner, c), inner, c
}

func expectCalls(t *testing.T, s *sqlTeamStore, method string, want int64) {
	t.Helper()
	if got := s.calls[method].Load(); got != want {
		t.Fatalf("%s reached the store %d times, want %d", method, got, want)
	}
}

// TestGetCachesTeam: a successful Get returns a nil *AppError, which the
// loader must not turn into a non-nil error (the value would then never be
// cached, and the caller would see a failure).
func TestGetCachesTeam(t *testing.T) {
	ctx := context.Background()
	teams, inner, _ := setup(t)
	for range 2 {
		team, appErr := teams.Get(ctx, "t1")
		if appErr != nil {
			t.Fatalf("Get: %v", appErr)
		}
		if team.Name != "core" {
			t.Fatalf("Get = %+v", team)
		}
	}
	expectCalls(t, inner, "Get", 1)
}

// TestGetOutageIsNotCached: an *AppError is the error result, so an outage
// is not cached for the TTL, and the caller gets the store's *AppError with
// its fields.
func TestGetOutageIsNotCached(t *testing.T) {
	ctx := context.Background()
	teams, inner, _ := setup(t)
	inner.setDown(true)
	_, appErr := teams.Get(ctx, "t1")
	if appErr == nil {
		t.Fatal("Get during an outage: no error")
	}
	if appErr.StatusCode != http.StatusInternalServerError || appErr.ID != "store.sql_team.get.app_error" || appErr.Where != "SqlTeamStore.Get" {
		t.Fatalf("Get during an outage = %+v", appErr)
	}
	if !errors.Is(appErr, errConnRefused) {
		t.Fatalf("the *AppError lost its cause: %v", appErr.Err)
	}
	inner.setDown(false)
	team, appErr := teams.Get(ctx, "t1")
	if appErr != nil || team.ID != "t1" {
		t.Fatalf("Get after the outage = %+v, %v", team, appErr)
	}
	expectCalls(t, inner, "Get", 2)
}

// TestUpdateFailureDoesNotInvalidate: Update returns *AppError; one that
// failed leaves the cached team in place.
func TestUpdateFailureDoesNotInvalidate(t *testing.T) {
	ctx := context.Background()
	teams, inner, _ := setup(t)
	if _, appErr := teams.Get(ctx, "t1"); appErr != nil {
		t.Fatal(appErr)
	}
	inner.setDown(true)
	if _, appErr := teams.Update(ctx, &Team{ID: "t1", Name: "core", DisplayName: "Core team"}); appErr == nil {
		t.Fatal("Update during an outage: no error")
	}
	inner.setDown(false)
	if _, appErr := teams.Get(ctx, "t1"); appErr != nil {
		t.Fatal(appErr)
	}
	expectCalls(t, inner, "Get", 1)
}

// TestUpdateInvalidates: a successful Update returns a nil *AppError that
// the caller compares with nil, as mattermost's callers do, and invalidates
// both of the team's entries.
func TestUpdateInvalidates(t *testing.T) {
	ctx := context.Background()
	teams, inner, _ := setup(t)
	teams.Get(ctx, "t1")
	teams.GetByName(ctx, "core")
	updated, appErr := teams.Update(ctx, &Team{ID: "t1", Name: "core", DisplayName: "Core team"})
	if appErr != nil {
		t.Fatalf("Update returned a non-nil *AppError: %#v", appErr)
	}
	if updated.UpdateAt != 1 {
		t.Fatalf("Update = %+v", updated)
	}
	team, _ := teams.Get(ctx, "t1")
	byName, _ := teams.GetByName(ctx, "core")
	if team.DisplayName != "Core team" || byName.DisplayName != "Core team" {
		t.Fatalf("after Update: Get = %+v, GetByName = %+v", team, byName)
	}
	expectCalls(t, inner, "Get", 2)
	expectCalls(t, inner, "GetByName", 2)

	if appErr := teams.Delete(ctx, "t1"); appErr != nil {
		t.Fatalf("Delete: %v", appErr)
	}
	if _, appErr := teams.Get(ctx, "t1"); appErr == nil || appErr.StatusCode != http.StatusNotFound {
		t.Fatalf("Get after Delete: %v", appErr)
	}
	expectCalls(t, inner, "Get", 3)
}

// TestGetByNameCachesNotFound: errors=ErrTeamNotFound caches the *AppError
// that wraps it. The second lookup is a hit, and the held *AppError keeps
// its fields and its cause, so errors.Is finds the sentinel through its
// Unwrap on the memory tier.
func TestGetByNameCachesNotFound(t *testing.T) {
	ctx := context.Background()
	teams, inner, _ := setup(t)
	for i := range 2 {
		team, appErr := teams.GetByName(ctx, "missing")
		if team != nil || appErr == nil {
			t.Fatalf("call %d: GetByName = %v, %v", i, team, appErr)
		}
		if !errors.Is(appErr, ErrTeamNotFound) {
			t.Fatalf("call %d: errors.Is(%v, ErrTeamNotFound) is false", i, appErr)
		}
		if appErr.StatusCode != http.StatusNotFound || appErr.ID != "store.sql_team.get_by_name.missing.app_error" {
			t.Fatalf("call %d: %+v", i, appErr)
		}
	}
	expectCalls(t, inner, "GetByName", 1)
}

// TestGetContextEndedWhileWaiting: a caller whose context ends while it
// waits for another caller's load gets an error that is not an *AppError
// from the runtime; the decorator asks the store once, which reports the
// ended context as an *AppError.
func TestGetContextEndedWhileWaiting(t *testing.T) {
	teams, inner, _ := setup(t)
	inner.entered, inner.release = make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(inner.release) })
	t.Cleanup(release) // before the cache closes, which waits for the load
	done := make(chan *AppError)
	go func() {
		_, appErr := teams.Get(context.Background(), "t1")
		done <- appErr
	}()
	<-inner.entered // the first caller's load is running
	inner.entered = nil

	// A caller whose context has ended joins the running load: it returns
	// at once, as one whose context ends while it waits does.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	waited := make(chan *AppError)
	go func() {
		_, appErr := teams.Get(ctx, "t1")
		waited <- appErr
	}()
	appErr := <-waited
	if appErr == nil || appErr.StatusCode != http.StatusRequestTimeout || !errors.Is(appErr, context.Canceled) {
		t.Fatalf("Get with an ended context = %v, want the store's *AppError for it", appErr)
	}
	release()
	if appErr := <-done; appErr != nil {
		t.Fatalf("the first caller: %v", appErr)
	}
	expectCalls(t, inner, "Get", 2)
}
