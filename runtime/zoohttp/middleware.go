package zoohttp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	zoo "github.com/zoogen/zoogen/runtime"
)

// Response is a cached response. It is exported for MessagePack, which
// stores responses in Redis and LMDB.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	ETag   string
	// Vary lists the request headers the response varies on (its Vary
	// header, canonical and sorted).
	Vary []string
	// VaryValues is a digest of the values the request that loaded the
	// response had for them; only requests with the same values are served
	// it.
	VaryValues string
}

// errUncacheable carries a response that must not be cached, nor shared
// with other callers of the same load.
type errUncacheable struct{ resp *Response }

func (errUncacheable) Error() string { return "zoohttp: response not cacheable" }

// Middleware returns a middleware that caches the GET and HEAD responses of
// the handler it wraps in c, configured by opts. It returns an error
// wrapping zoo.ErrBadOption, naming the option and its value, when an
// option is invalid.
//
// What is cached follows RFC 9111's rules for a shared cache, and the doc
// of this package lists them: in short, only complete 2xx responses to
// GET, that set no cookie, are not marked no-store or private and do not
// say Vary: *; never a response to a request that carries Authorization or
// Cookie unless [WithUser] says who it is from. A response's Vary header is
// honoured: the entry records the request's values of the headers it names
// (as a hash), and a request whose values differ is a miss.
//
// Concurrent requests for one key run the handler once; a response that
// turns out not to be cacheable, or that varies on a header whose value
// differs, is never shared: the other requests run the handler themselves.
// A request with Cache-Control: no-store neither reads nor fills the cache;
// no-cache or max-age=0 skips the cache (the handler answers it).
func Middleware(c *zoo.Cache, opts ...Option) (func(http.Handler) http.Handler, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: zoohttp: nil cache", zoo.ErrBadOption)
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	mw := &middleware{cfg: cfg, m: c.Method(zoo.MethodSpec{
		Package: "net/http", Interface: "Middleware", Method: cfg.name, TTL: cfg.ttl,
	})}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { mw.serveHTTP(w, r, next) })
	}, nil
}

// middleware is one route's cache. It is immutable and safe for concurrent
// use.
type middleware struct {
	cfg config
	m   *zoo.Method
}

func (mw *middleware) serveHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		next.ServeHTTP(w, r)
		return
	}
	cc := headerList(r.Header, "Cache-Control")
	key, ok := mw.key(r)
	if !ok || hasDirective(cc, "no-store") || hasDirective(cc, "no-cache") || directiveValue(cc, "max-age") == "0" {
		bypass(w, r, next)
		return
	}
	ctx := r.Context()
	resp, ok, miss := zoo.Find[*Response](ctx, mw.m, key)
	if ok && usable(resp, r) {
		serve(w, r, resp, "hit")
		return
	}
	if r.Method == http.MethodHead {
		// A handler may answer HEAD without a body: never fill the cache
		// from it.
		next.ServeHTTP(w, r)
		return
	}
	var ran atomic.Bool // read after Load returns early, while the load may run on
	resp, err := zoo.LoadMiss(ctx, mw.m, key, miss, func(ctx context.Context) (*Response, error) {
		ran.Store(true)
		if mw.cfg.tags != nil {
			zoo.AddDeps(ctx, mw.cfg.tags(r)...)
		}
		rec := &recorder{header: http.Header{}, status: http.StatusOK, max: mw.cfg.maxBody}
		next.ServeHTTP(rec, r.WithContext(ctx))
		resp := &Response{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()}
		names, star := varyNames(rec.header)
		if star || !storable(rec, r) {
			return nil, errUncacheable{resp}
		}
		resp.Vary, resp.VaryValues = names, varyValues(names, r)
		if resp.Header.Get("ETag") == "" {
			v, _ := zoo.LoadVersion(ctx)
			resp.ETag = fmt.Sprintf(`"zoo-%x"`, uint64(v))
		}
		return resp, nil
	})
	var unc errUncacheable
	switch {
	case err == nil && (ran.Load() || usable(resp, r)):
		serve(w, r, resp, "miss")
	case err == nil:
		// Another request's response, for other values of the headers it
		// varies on: not ours to see.
		next.ServeHTTP(w, r)
	case errors.As(err, &unc) && ran.Load():
		write(w, unc.resp, "uncacheable")
	case errors.As(err, &unc):
		// Another request's response: not ours to see.
		next.ServeHTTP(w, r)
	case ctx.Err() != nil:
		// The client went away.
	default:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// key returns the key of r's entry, or false when r must not be cached:
// it carries credentials that [WithUser] does not account for.
func (mw *middleware) key(r *http.Request) ([]byte, bool) {
	var carries credentials
	if _, ok := r.Header["Authorization"]; ok {
		carries |= authorization
	}
	if _, ok := r.Header["Cookie"]; ok {
		carries |= cookie
	}
	if carries&^mw.cfg.covers != 0 {
		return nil, false
	}
	k := zoo.KeyString(mw.m.Key(nil), mw.cfg.key(r))
	if mw.cfg.user == nil {
		return k, true
	}
	id, ok := mw.cfg.user(r)
	if !ok {
		return nil, false
	}
	return zoo.KeyString(k, id), true
}

// bypass passes a request the cache must not answer to the handler.
func bypass(w http.ResponseWriter, r *http.Request, next http.Handler) {
	w.Header().Set("Cache-Status", "zoo; bypass")
	next.ServeHTTP(w, r)
}

// storable reports whether a recorded response to r may be cached: a
// complete 2xx response that sets no cookie and does not forbid storing,
// and, for a request with Authorization, one that allows a shared cache to
// store it (RFC 9111, section 3.5).
func storable(rec *recorder, r *http.Request) bool {
	cc := headerList(rec.header, "Cache-Control")
	return rec.status >= 200 && rec.status < 300 && !rec.overflow &&
		len(rec.header.Values("Set-Cookie")) == 0 &&
		!hasDirective(cc, "no-store") && !hasDirective(cc, "private") &&
		(!hasAuthorization(r) || sharedAllowed(cc))
}

// usable reports whether a stored response may answer r: r's values of the
// headers the response varies on are those it was stored for, and a
// request with Authorization is answered only by a response that allows a
// shared cache to (RFC 9111, section 3.5).
func usable(resp *Response, r *http.Request) bool {
	if resp == nil || slices.Contains(resp.Vary, "*") || resp.VaryValues != varyValues(resp.Vary, r) {
		return false
	}
	return !hasAuthorization(r) || sharedAllowed(headerList(resp.Header, "Cache-Control"))
}

func hasAuthorization(r *http.Request) bool {
	_, ok := r.Header["Authorization"]
	return ok
}

// sharedAllowed reports whether a response's Cache-Control lets a shared
// cache store and reuse a response to a request with Authorization.
func sharedAllowed(cc string) bool {
	return hasDirective(cc, "public") || hasDirective(cc, "s-maxage") || hasDirective(cc, "must-revalidate")
}

// varyNames returns the request headers a response varies on, canonical,
// sorted and without repeats, and whether it varies on "*".
func varyNames(h http.Header) (names []string, star bool) {
	for _, v := range h.Values("Vary") {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			switch name {
			case "":
				continue
			case "*":
				star = true
				continue
			}
			names = append(names, http.CanonicalHeaderKey(name))
		}
	}
	slices.Sort(names)
	return slices.Compact(names), star
}

// varyValues returns a digest of r's values of the headers names, so that
// an entry can be matched with requests without keeping their values
// (credentials, for Vary: Authorization) in the store. No header and an
// empty one differ.
func varyValues(names []string, r *http.Request) string {
	if len(names) == 0 {
		return ""
	}
	h := sha256.New()
	for _, name := range names {
		vs, ok := r.Header[name]
		if !ok {
			h.Write([]byte{0})
			continue
		}
		h.Write([]byte{1})
		for _, v := range vs {
			h.Write(strconv.AppendInt(nil, int64(len(v)), 10))
			h.Write([]byte{':'})
			h.Write([]byte(v))
		}
		h.Write([]byte{';'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// headerList returns the values of a list header, joined with commas.
func headerList(h http.Header, name string) string {
	return strings.Join(h.Values(name), ",")
}

// serve writes a cacheable response, or 304 Not Modified when the request
// already has it.
func serve(w http.ResponseWriter, r *http.Request, resp *Response, status string) {
	etag := resp.ETag
	if etag == "" {
		etag = resp.Header.Get("ETag")
	}
	if etag != "" && matches(r.Header.Get("If-None-Match"), etag) {
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("Cache-Status", "zoo; "+status)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		resp = &Response{Status: resp.Status, Header: resp.Header, ETag: resp.ETag}
	}
	write(w, resp, status)
}

func write(w http.ResponseWriter, resp *Response, status string) {
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = append([]string(nil), vs...)
	}
	if resp.ETag != "" {
		h.Set("ETag", resp.ETag)
	}
	h.Set("Cache-Status", "zoo; "+status)
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// matches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func matches(header, etag string) bool {
	if header == "" {
		return false
	}
	if strings.TrimSpace(header) == "*" {
		return true
	}
	want := strings.TrimPrefix(etag, "W/")
	for tag := range strings.SplitSeq(header, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == want {
			return true
		}
	}
	return false
}

// directiveValue returns the value of a Cache-Control directive, without
// quotes, or "" when the header does not have it.
func directiveValue(header, directive string) string {
	for d := range strings.SplitSeq(header, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		if strings.EqualFold(strings.TrimSpace(name), directive) {
			return strings.Trim(strings.TrimSpace(value), `"`)
		}
	}
	return ""
}

// hasDirective reports whether a Cache-Control header has a directive.
func hasDirective(header, directive string) bool {
	for d := range strings.SplitSeq(header, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(d), "=")
		if strings.EqualFold(strings.TrimSpace(name), directive) {
			return true
		}
	}
	return false
}

// recorder is the ResponseWriter a handler writes a response to be cached
// into.
type recorder struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
	max         int
	overflow    bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	if r.body.Len()+len(p) > r.max {
		r.overflow = true
	}
	return r.body.Write(p)
}
