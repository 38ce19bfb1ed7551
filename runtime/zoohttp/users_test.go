package zoohttp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/zoohttp"
)

// The requests of the tests below: Alice signs in with a bearer token, Bob
// with a session cookie, and the third request is anonymous.
var (
	alice = []string{"Authorization", "Bearer alice-token"}
	bob   = []string{"Cookie", "session=bob-session"}
	anon  []string
)

// who is the user a request is from, as the application's authentication
// would tell.
func who(r *http.Request) string {
	if r.Header.Get("Authorization") == "Bearer alice-token" {
		return "alice"
	}
	if c, err := r.Cookie("session"); err == nil && c.Value == "bob-session" {
		return "bob"
	}
	return "anonymous"
}

// userID is a WithUser function: the user's id, "" for anonymous requests.
func userID(r *http.Request) (string, bool) {
	if u := who(r); u != "anonymous" {
		return u, true
	}
	return "", true
}

// site serves one page, personalised with who(r), behind the middleware,
// through a real HTTP server and the cache's real memory store.
type site struct {
	cache *zoo.Cache
	srv   *httptest.Server
	calls atomic.Int64
}

// newSite serves a page whose response headers header sets, with the
// middleware configured by opts.
func newSite(t *testing.T, header func(h http.Header, r *http.Request), opts ...zoohttp.Option) *site {
	t.Helper()
	c, err := zoo.New(zoo.WithStats(true))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	s := &site{cache: c}
	mw, err := zoohttp.Middleware(c, append([]zoohttp.Option{zoohttp.WithName("page")}, opts...)...)
	require.NoError(t, err)
	s.srv = httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		if header != nil {
			header(w.Header(), r)
		}
		_, _ = io.WriteString(w, "page for "+who(r)+" in "+r.Header.Get("Accept-Language"))
	})))
	t.Cleanup(s.srv.Close)
	return s
}

// get requests the page with the given header names and values, and
// returns its body and Cache-Status.
func (s *site) get(t *testing.T, header ...[]string) (body, status string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+"/page", nil)
	require.NoError(t, err)
	for _, h := range header {
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Add(h[i], h[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return string(b), resp.Header.Get("Cache-Status")
}

// wants requests the page as each of header in turn and checks that each
// got its own user's page.
func (s *site) wants(t *testing.T, users ...[]string) {
	t.Helper()
	for _, u := range users {
		body, status := s.get(t, u)
		want := "page for anonymous"
		switch {
		case u == nil:
		case u[0] == "Authorization":
			want = "page for alice"
		case u[0] == "Cookie":
			want = "page for bob"
		}
		require.True(t, strings.HasPrefix(body, want), "got %q (%s), want %q", body, status, want)
	}
}

func public(h http.Header, _ *http.Request) { h.Set("Cache-Control", "public, max-age=60") }

// TestCredentialsAreNotSharedWithoutUser: without WithUser, a request that
// carries Authorization or Cookie is neither served from the cache nor
// stored in it, even when the response says public and varies on nothing:
// Alice's page never reaches Bob or an anonymous request, and the
// anonymous page never reaches them.
func TestCredentialsAreNotSharedWithoutUser(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header func(http.Header, *http.Request)
	}{
		{"public", public},
		{"vary authorization", func(h http.Header, r *http.Request) {
			public(h, r)
			h.Set("Vary", "Authorization")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, tc.header)
			s.wants(t, alice, alice, bob, bob, anon, anon, alice, bob)
			// Only the second anonymous request was a hit.
			assert.Equal(t, int64(7), s.calls.Load())
			_, status := s.get(t, alice)
			assert.Equal(t, "zoo; bypass", status)
			_, status = s.get(t, anon)
			assert.Equal(t, "zoo; hit", status)
		})
	}
}

// TestPerUserEntries: with WithUser, each user gets entries of their own
// and the anonymous page is shared among anonymous requests only.
func TestPerUserEntries(t *testing.T) {
	mustRevalidate := func(h http.Header, _ *http.Request) { h.Set("Cache-Control", "must-revalidate") }
	s := newSite(t, mustRevalidate, zoohttp.WithUser(userID, "Authorization", "Cookie"))
	s.wants(t, alice, bob, anon, alice, bob, anon)
	assert.Equal(t, int64(3), s.calls.Load(), "the second round was served from the cache")
	_, status := s.get(t, alice)
	assert.Equal(t, "zoo; hit", status)
	_, status = s.get(t, []string{"Authorization", "Bearer mallory"})
	assert.Equal(t, "zoo; hit", status, "another token that userID maps to anonymous shares the anonymous page")

	t.Run("unknown user", func(t *testing.T) {
		s := newSite(t, mustRevalidate, zoohttp.WithUser(func(*http.Request) (string, bool) { return "", false }, "Authorization"))
		s.wants(t, alice, alice, anon, anon)
		assert.Equal(t, int64(4), s.calls.Load(), "a request user cannot place is never cached")
	})
	t.Run("credential not covered", func(t *testing.T) {
		// The identity comes from the cookie only: a request with
		// Authorization is not cached.
		s := newSite(t, mustRevalidate, zoohttp.WithUser(userID, "cookie"))
		s.wants(t, alice, alice, bob, bob)
		assert.Equal(t, int64(3), s.calls.Load())
		_, status := s.get(t, alice)
		assert.Equal(t, "zoo; bypass", status)
	})
}

// TestAuthorizationNeedsSharedPermission: a response to a request with
// Authorization is cached only when it allows a shared cache to store it
// (public, s-maxage, must-revalidate; RFC 9111, section 3.5); a response to
// a request with a cookie needs no such permission.
func TestAuthorizationNeedsSharedPermission(t *testing.T) {
	for _, tc := range []struct {
		cacheControl string
		cached       bool
	}{
		{"", false},
		{"max-age=60", false},
		{"public", true},
		{"s-maxage=60", true},
		{"must-revalidate", true},
	} {
		t.Run(tc.cacheControl, func(t *testing.T) {
			s := newSite(t, func(h http.Header, _ *http.Request) {
				if tc.cacheControl != "" {
					h.Set("Cache-Control", tc.cacheControl)
				}
			}, zoohttp.WithUser(userID, "Authorization", "Cookie"))
			s.wants(t, alice, alice, bob, bob)
			want := int64(2)
			if !tc.cached {
				want = 3
			}
			assert.Equal(t, want, s.calls.Load())
		})
	}
	t.Run("stored for a cookie, asked with Authorization", func(t *testing.T) {
		// Bob's entry (no permission needed for a cookie) is not served to
		// Bob asking with a token as well.
		s := newSite(t, nil, zoohttp.WithUser(func(r *http.Request) (string, bool) { return "bob", true }, "Authorization", "Cookie"))
		s.get(t, bob)
		_, status := s.get(t, bob, alice)
		assert.NotEqual(t, "zoo; hit", status)
		assert.Equal(t, int64(2), s.calls.Load())
	})
	t.Run("asked with Authorization, then with a cookie", func(t *testing.T) {
		// A response to a request with Authorization that does not allow
		// storing is not stored: the same user's next request, with a
		// cookie, does not get it from the cache.
		s := newSite(t, nil, zoohttp.WithUser(func(r *http.Request) (string, bool) { return "bob", true }, "Authorization", "Cookie"))
		s.get(t, alice)
		_, status := s.get(t, bob)
		assert.Equal(t, "zoo; miss", status)
		assert.Equal(t, int64(2), s.calls.Load())
	})
}

// TestVary: a response's Vary header is honoured: a request whose values of
// the headers it names differ from those it was stored for is a miss, and
// Vary: * is never cached.
func TestVary(t *testing.T) {
	en, fr := []string{"Accept-Language", "en"}, []string{"Accept-Language", "fr"}
	varies := func(h http.Header, _ *http.Request) { h.Add("Vary", "accept-language, Accept-Encoding") }
	s := newSite(t, varies)
	body, _ := s.get(t, en)
	assert.Equal(t, "page for anonymous in en", body)
	body, status := s.get(t, en)
	assert.Equal(t, "page for anonymous in en", body)
	assert.Equal(t, "zoo; hit", status)
	body, status = s.get(t, fr)
	assert.Equal(t, "page for anonymous in fr", body)
	assert.Equal(t, "zoo; miss", status)
	body, _ = s.get(t, anon)
	assert.Equal(t, "page for anonymous in ", body, "no header differs from any value")
	body, status = s.get(t, []string{"Accept-Language", ""})
	assert.Equal(t, "page for anonymous in ", body)
	assert.Equal(t, "zoo; miss", status, "an empty header differs from none")
	body, _ = s.get(t, fr, []string{"Accept-Encoding", "gzip"})
	assert.Equal(t, "page for anonymous in fr", body)
	assert.Equal(t, int64(5), s.calls.Load())

	t.Run("star", func(t *testing.T) {
		s := newSite(t, func(h http.Header, _ *http.Request) { h.Set("Vary", "Accept-Language, *") })
		s.get(t, en)
		_, status := s.get(t, en)
		assert.Equal(t, "zoo; uncacheable", status)
		assert.Equal(t, int64(2), s.calls.Load())
	})

	t.Run("joined load", func(t *testing.T) {
		// A French request that joins the load of an English one does not
		// get the English page.
		release := make(chan struct{})
		var first, released sync.Once
		s := newSite(t, func(h http.Header, r *http.Request) {
			varies(h, r)
			first.Do(func() { <-release })
		})
		// Released on failure too (before the site's cleanups, which wait
		// for its requests), so that a failed check does not leave the
		// load blocked until the test binary times out.
		t.Cleanup(func() { released.Do(func() { close(release) }) })
		done := make(chan string, 2)
		go func() {
			body, _ := s.get(t, en)
			done <- body
		}()
		require.Eventually(t, func() bool { return s.calls.Load() == 1 }, 5*time.Second, time.Millisecond)
		go func() {
			body, _ := s.get(t, fr)
			done <- body
		}()
		require.Eventually(t, func() bool {
			st := s.cache.Stats()
			return len(st.Methods) == 1 && st.Methods[0].Coalesced == 1
		}, 5*time.Second, time.Millisecond, "the French request joins the load")
		released.Do(func() { close(release) })
		got := []string{<-done, <-done}
		assert.ElementsMatch(t, []string{"page for anonymous in en", "page for anonymous in fr"}, got)
	})
}

// TestRequestCacheControl: a request with no-store is neither served nor
// stored; no-cache and max-age=0 are not served from the cache.
func TestRequestCacheControl(t *testing.T) {
	s := newSite(t, nil)
	s.get(t, anon) // stored
	for _, cc := range []string{"no-store", "no-cache", "max-age=0", "max-age=10, No-Cache"} {
		_, status := s.get(t, []string{"Cache-Control", cc})
		assert.Equal(t, "zoo; bypass", status, cc)
	}
	assert.Equal(t, int64(5), s.calls.Load(), "each reached the handler")
	_, status := s.get(t, []string{"Cache-Control", "max-age=10"})
	assert.Equal(t, "zoo; hit", status)

	s = newSite(t, nil)
	s.get(t, []string{"Cache-Control", "no-store"})
	_, status = s.get(t, anon)
	assert.Equal(t, "zoo; miss", status, "the no-store request stored nothing")
}

// TestBadOptions: Middleware rejects each bad option with an error that
// wraps zoo.ErrBadOption and names the value.
func TestBadOptions(t *testing.T) {
	c, err := zoo.New(zoo.WithStats(true))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	user := zoohttp.WithUser(userID, "Cookie")
	for _, tc := range []struct {
		opt  zoohttp.Option
		want string
	}{
		{zoohttp.WithName(""), "empty route name"},
		{zoohttp.WithTTL(0), "TTL 0s is not positive"},
		{zoohttp.WithTTL(-time.Second), "TTL -1s is not positive"},
		{zoohttp.WithTTL(zoo.MaxTTL + 1), "longer than zoo.MaxTTL"},
		{zoohttp.WithMaxBody(0), "max body 0 is not positive"},
		{zoohttp.WithMaxBody(-5), "max body -5 is not positive"},
		{zoohttp.WithUser(nil, "Cookie"), "nil user function"},
		{zoohttp.WithUser(userID), "no credentials named"},
		{zoohttp.WithUser(userID, "Cookie", "X-Api-Key"), `credential header "X-Api-Key"`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			mw, err := zoohttp.Middleware(c, user, tc.opt)
			require.ErrorIs(t, err, zoo.ErrBadOption)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, "zoohttp: ")
			require.Nil(t, mw)
		})
	}
	_, err = zoohttp.Middleware(nil)
	require.ErrorIs(t, err, zoo.ErrBadOption)
	_, err = zoohttp.Middleware(c, nil, zoohttp.WithKey(nil), zoohttp.WithTags(nil), zoohttp.WithTTL(time.Minute),
		zoohttp.WithUser(userID, "authorization", "COOKIE"))
	require.NoError(t, err, "nil means the default; header names in any case")
}
