package zoohttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
)

// Options configure [Middleware].
type Options struct {
	// Name names the cached route in keys and statistics ("product"). Routes
	// cached in one cache need different names.
	Name string
	// Tags returns the tags a response depends on, from the request (its
	// path values, typically). Handlers can add more while they run, with
	// zoo.AddDeps(r.Context(), ...).
	Tags func(r *http.Request) []string
	// Key returns what tells responses apart; the default is the path and
	// the query. Include whatever else the handler varies on (a header, the
	// user), or do not cache the route.
	Key func(r *http.Request) string
	// TTL overrides the cache's TTL.
	TTL time.Duration
	// MaxBody bounds the responses that are cached; larger ones are served
	// and not cached. The default is 1 MiB.
	MaxBody int
}

// Response is a cached response. It is exported for MessagePack, which
// stores responses in Redis and LMDB.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	ETag   string
}

// errUncacheable carries a response that must not be cached, nor shared
// with other callers of the same load.
type errUncacheable struct{ resp *Response }

func (errUncacheable) Error() string { return "zoohttp: response not cacheable" }

// Middleware returns a middleware that caches the GET and HEAD responses of
// the handler it wraps in c.
//
// Concurrent requests for one key run the handler once; a response that
// turns out not to be cacheable is never shared: the other requests run the
// handler themselves. A request with Cache-Control: no-store neither reads
// nor fills the cache; no-cache skips the read.
func Middleware(c *zoo.Cache, opts Options) func(http.Handler) http.Handler {
	if opts.Name == "" {
		opts.Name = "http"
	}
	if opts.Key == nil {
		opts.Key = func(r *http.Request) string { return r.URL.EscapedPath() + "?" + r.URL.RawQuery }
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	m := c.Method(zoo.MethodSpec{Package: "net/http", Interface: "Middleware", Method: opts.Name, TTL: opts.TTL})
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				next.ServeHTTP(w, r)
				return
			}
			cc := r.Header.Get("Cache-Control")
			if hasDirective(cc, "no-store") {
				next.ServeHTTP(w, r)
				return
			}
			key := zoo.KeyString(m.Key(nil), opts.Key(r))
			if !hasDirective(cc, "no-cache") {
				if resp, ok := zoo.Lookup[*Response](r.Context(), m, key); ok {
					serve(w, r, resp, "hit")
					return
				}
			}
			if r.Method == http.MethodHead {
				// A handler may answer HEAD without a body: never fill the
				// cache from it.
				next.ServeHTTP(w, r)
				return
			}
			ran := false
			resp, err := zoo.Load(r.Context(), m, key, func(ctx context.Context) (*Response, error) {
				ran = true
				if opts.Tags != nil {
					zoo.AddDeps(ctx, opts.Tags(r)...)
				}
				rec := &recorder{header: http.Header{}, status: http.StatusOK, max: opts.MaxBody}
				next.ServeHTTP(rec, r.WithContext(ctx))
				resp := &Response{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()}
				if !cacheable(rec) {
					return nil, errUncacheable{resp}
				}
				if resp.Header.Get("ETag") == "" {
					v, _ := zoo.LoadVersion(ctx)
					resp.ETag = fmt.Sprintf(`"zoo-%x"`, uint64(v))
				}
				return resp, nil
			})
			var unc errUncacheable
			switch {
			case err == nil:
				serve(w, r, resp, "miss")
			case errors.As(err, &unc) && ran:
				write(w, unc.resp, "uncacheable")
			case errors.As(err, &unc):
				// Another request's response: not ours to see.
				next.ServeHTTP(w, r)
			case r.Context().Err() != nil:
				// The client went away.
			default:
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		})
	}
}

// cacheable reports whether a recorded response may be cached: a complete
// 2xx response that sets no cookie and does not forbid storing.
func cacheable(rec *recorder) bool {
	cc := rec.header.Get("Cache-Control")
	return rec.status >= 200 && rec.status < 300 && !rec.overflow &&
		len(rec.header.Values("Set-Cookie")) == 0 &&
		!hasDirective(cc, "no-store") && !hasDirective(cc, "private")
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

// hasDirective reports whether a Cache-Control header has a directive.
func hasDirective(header, directive string) bool {
	for d := range strings.SplitSeq(header, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(d), "=")
		if strings.EqualFold(name, directive) {
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
