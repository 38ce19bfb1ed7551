package embedded

import (
	"context"
	"sync/atomic"
	"testing"

	zoo "github.com/zoogen/zoogen/runtime"
)

type fakeStore struct {
	users  map[string]User
	calls  atomic.Int64
	closed atomic.Bool
}

func (s *fakeStore) User(ctx context.Context, id string) (User, error) {
	s.calls.Add(1)
	return s.users[id], nil
}

func (s *fakeStore) SaveUser(ctx context.Context, u User) error {
	s.calls.Add(1)
	s.users[u.ID] = u
	return nil
}

func (s *fakeStore) Count(ctx context.Context) (int, error) {
	s.calls.Add(1)
	return len(s.users), nil
}

func (s *fakeStore) Close() error {
	s.closed.Store(true)
	return nil
}

func (s *fakeStore) Members(ctx context.Context, name string) ([]User, error) {
	s.calls.Add(1)
	return []User{s.users["a"]}, nil
}

func TestEmbeddedMethods(t *testing.T) {
	ctx := context.Background()
	c, err := zoo.New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	inner := &fakeStore{users: map[string]User{"a": {ID: "a", Name: "Ann"}}}
	var st Store = NewCachedStore(inner, c)
	st.User(ctx, "a")
	if u, _ := st.User(ctx, "a"); u.Name != "Ann" || inner.calls.Load() != 1 {
		t.Fatalf("User = %+v after %d calls", u, inner.calls.Load())
	}
	st.SaveUser(ctx, User{ID: "a", Name: "Anna"}) // from the embedded Writer: invalidates
	if u, _ := st.User(ctx, "a"); u.Name != "Anna" {
		t.Fatalf("after SaveUser, User = %+v", u)
	}
	st.Count(ctx)
	st.Count(ctx)
	if inner.calls.Load() != 4 {
		t.Fatalf("%d calls, want 4", inner.calls.Load())
	}
	if err := st.Close(); err != nil || !inner.closed.Load() {
		t.Fatal("io.Closer's Close did not pass through")
	}

	var g Groups = NewCachedGroups(inner, c)
	g.Members(ctx, "x")
	g.Members(ctx, "x")
	if inner.calls.Load() != 5 {
		t.Fatalf("%d calls, want 5", inner.calls.Load())
	}
}
