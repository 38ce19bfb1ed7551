// Package zoohttp puts a cache in front of net/http handlers and lets
// operators look into a running cache.
//
// [Middleware] caches GET and HEAD responses under tags derived from the
// request, so that the writes that invalidate a repository's entries
// invalidate the pages built from them too:
//
//	product, err := zoohttp.Middleware(cache,
//		zoohttp.WithName("product"),
//		zoohttp.WithTags(func(r *http.Request) []string { return []string{zoo.Tag("product", r.PathValue("id"))} }),
//	)
//	if err != nil { ... } // a bad option: err wraps zoo.ErrBadOption
//	mux.Handle("GET /products/{id}", product(productHandler))
//
// Responses carry an ETag made of the entry's version, and a request whose
// If-None-Match names it gets 304 Not Modified. Every response says what the
// cache did in a Cache-Status header ("zoo; hit", "zoo; miss",
// "zoo; uncacheable", "zoo; bypass").
//
// # What is cached
//
// The cache is shared by every client of the server, so it follows the
// rules RFC 9111 sets for a shared cache, and errs on the side of not
// caching:
//
//   - Only GET responses are stored, and only complete 2xx ones with a body
//     of at most [WithMaxBody] bytes; HEAD is answered from what GET stored.
//   - A response that sets a cookie (Set-Cookie), says Cache-Control:
//     no-store or private, or says Vary: * is never stored.
//   - A response's Vary header is honoured: the entry records a digest of
//     the request's values of the headers it names (never the values
//     themselves), and only a request with the same values is served it;
//     another is a miss. Put a header that the route always varies on in
//     [WithKey] too, so that each variant gets an entry of its own.
//   - A request with Cache-Control: no-store is neither served from the
//     cache nor stored; no-cache or max-age=0 is not served from it (the
//     handler answers, and the entry stays).
//   - A request that carries credentials (an Authorization or a Cookie
//     header) is never served from the cache nor stored in it, unless
//     [WithUser] says how to separate users and names that header: entries
//     are then kept per user. A request with Authorization is moreover
//     stored only when the response allows a shared cache to (public,
//     s-maxage or must-revalidate), and served only from such a response.
//
// A page for signed-in users, kept per user, with the identity taken from
// what the application's authentication middleware put in the context:
//
//	account, err := zoohttp.Middleware(cache,
//		zoohttp.WithName("account"),
//		zoohttp.WithUser(func(r *http.Request) (string, bool) {
//			u, ok := auth.UserFrom(r.Context())
//			return u.ID, ok
//		}, "Authorization", "Cookie"),
//	)
//
// A public page that ignores the cookies browsers send with it (analytics,
// preferences the handler never reads) says so with an identity shared by
// everyone:
//
//	zoohttp.WithUser(func(*http.Request) (string, bool) { return "", true }, "Cookie")
//
// [Debug] serves a cache's statistics and tag versions as JSON and as a
// small HTML page, and takes invalidations: the zoo command talks to it.
package zoohttp
