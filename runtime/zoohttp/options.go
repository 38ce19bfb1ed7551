package zoohttp

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
)

// DefaultMaxBody is the largest response body [Middleware] caches when
// [WithMaxBody] does not say: 1 MiB.
const DefaultMaxBody = 1 << 20

// DefaultName names a route whose [Middleware] is not given [WithName].
const DefaultName = "http"

// An Option configures a [Middleware].
type Option func(*config)

type config struct {
	name    string
	tags    func(r *http.Request) []string
	key     func(r *http.Request) string
	ttl     time.Duration
	ttlSet  bool
	maxBody int
	user    func(r *http.Request) (string, bool)
	userSet bool     // WithUser was given
	creds   []string // as given to WithUser
	covers  credentials
}

// credentials is a set of the request headers that identify a user.
type credentials uint8

const (
	authorization credentials = 1 << iota
	cookie
)

func defaultConfig() config {
	return config{name: DefaultName, key: defaultKey, maxBody: DefaultMaxBody}
}

// defaultKey tells responses apart by path and query.
func defaultKey(r *http.Request) string { return r.URL.EscapedPath() + "?" + r.URL.RawQuery }

// WithName names the cached route in keys and statistics ("product"); the
// default is [DefaultName]. Routes cached in one cache need different names.
func WithName(name string) Option { return func(c *config) { c.name = name } }

// WithTags sets the function that returns the tags a response depends on,
// from the request (its path values, typically). Handlers can add more
// while they run, with zoo.AddDeps(r.Context(), ...). nil means no tags
// beyond what handlers add.
func WithTags(tags func(r *http.Request) []string) Option {
	return func(c *config) { c.tags = tags }
}

// WithKey sets the function that returns what tells responses apart; the
// default (also what nil means) is the path and the query. Include
// whatever else the handler varies on (a header), or do not cache the
// route. Who the request is from belongs in [WithUser], not here: requests
// that carry credentials are never cached without it.
func WithKey(key func(r *http.Request) string) Option {
	return func(c *config) {
		c.key = key
		if key == nil {
			c.key = defaultKey
		}
	}
}

// WithTTL sets how long the route's responses live, instead of the cache's
// TTL: d must be positive and at most zoo.MaxTTL.
func WithTTL(d time.Duration) Option { return func(c *config) { c.ttl, c.ttlSet = d, true } }

// WithMaxBody bounds the responses that are cached to n bytes of body
// (n > 0); larger ones are served and not cached. The default is
// [DefaultMaxBody].
func WithMaxBody(n int) Option { return func(c *config) { c.maxBody = n } }

// WithUser makes the route cache responses to requests that carry
// credentials, one entry per user. Without it, a request with an
// Authorization or a Cookie header is passed to the handler and its
// response is neither cached nor served from the cache.
//
// user returns who the request is from: an identity that separates users
// (a user id, a session's id, what the application's authentication put in
// the request's context), and true. It returns false when it cannot tell,
// and the request is then passed to the handler, uncached. It is called for
// every GET and HEAD request, and the identity becomes part of the key:
// requests with one identity share entries, and no other request sees
// them. An empty identity with true is an identity too, that of every
// request that gets it: return ("", true) for requests the response does
// not depend on (anonymous ones, or a cookie the handler never reads).
//
// credentials names the request headers the identity accounts for:
// "Authorization", "Cookie", or both. A request carrying a credential
// header that is not named is never cached. A request with Authorization is
// moreover cached only when the response allows a shared cache to store it
// (Cache-Control: public, s-maxage or must-revalidate, as RFC 9111 section
// 3.5 asks), and served from an entry only when the stored response does.
func WithUser(user func(r *http.Request) (id string, ok bool), credentials ...string) Option {
	return func(c *config) {
		c.user, c.userSet, c.creds = user, true, append([]string(nil), credentials...)
	}
}

// validate checks the options and derives what the middleware reads from
// them. Its errors wrap zoo.ErrBadOption and name the option and its value.
func (c *config) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: zoohttp: "+format, append([]any{zoo.ErrBadOption}, args...)...))
	}
	if c.name == "" {
		bad("empty route name (WithName)")
	}
	if c.ttlSet && c.ttl <= 0 {
		bad("TTL %v is not positive", c.ttl)
	}
	if c.ttl > zoo.MaxTTL {
		bad("TTL %v is longer than zoo.MaxTTL (%v)", c.ttl, zoo.MaxTTL)
	}
	if c.maxBody <= 0 {
		bad("max body %d is not positive", c.maxBody)
	}
	if c.userSet && c.user == nil {
		bad("WithUser: nil user function")
	}
	if c.userSet && len(c.creds) == 0 {
		bad(`WithUser: no credentials named (want "Authorization", "Cookie" or both)`)
	}
	c.covers = 0
	for _, h := range c.creds {
		switch http.CanonicalHeaderKey(h) {
		case "Authorization":
			c.covers |= authorization
		case "Cookie":
			c.covers |= cookie
		default:
			bad(`WithUser: credential header %q is neither "Authorization" nor "Cookie"`, h)
		}
	}
	return errors.Join(errs...)
}
