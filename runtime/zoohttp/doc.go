// Package zoohttp puts a cache in front of net/http handlers and lets
// operators look into a running cache.
//
// [Middleware] caches GET and HEAD responses under tags derived from the
// request, so that the writes that invalidate a repository's entries
// invalidate the pages built from them too:
//
//	mux.Handle("GET /products/{id}", zoohttp.Middleware(cache, zoohttp.Options{
//		Name: "product",
//		Tags: func(r *http.Request) []string { return []string{zoo.Tag("product", r.PathValue("id"))} },
//	})(productHandler))
//
// Responses carry an ETag made of the entry's version, and a request whose
// If-None-Match names it gets 304 Not Modified. Only 2xx responses without
// Set-Cookie, and not marked no-store or private, are cached.
//
// [Debug] serves a cache's statistics and tag versions as JSON and as a
// small HTML page, and takes invalidations: the zoo command talks to it.
package zoohttp
