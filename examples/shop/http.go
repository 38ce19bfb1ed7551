package main

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/zoohttp"
	"github.com/zoogen/zoogen/runtime/zooprom"

	"github.com/zoogen/zoogen/examples/shop/catalog"
)

// newServer serves the shop over HTTP: product pages cached by the
// middleware under the same tags as the repository's entries, so that a
// price update through the repository expires the page too; the cache's
// debug page; and Prometheus metrics.
func newServer(repo catalog.Repo, cache *zoo.Cache) (http.Handler, error) {
	mux := http.NewServeMux()
	page, err := zoohttp.Middleware(cache,
		zoohttp.WithName("product-page"),
		zoohttp.WithTags(func(r *http.Request) []string {
			return []string{zoo.Tag("org", r.PathValue("oid"), "store", r.PathValue("sid"), "product", r.PathValue("pid"))}
		}),
	)
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /orgs/{oid}/stores/{sid}/products/{pid}", page(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		oid, sid, pid, ok := ids(w, r)
		if !ok {
			return
		}
		p, err := repo.GetProduct(r.Context(), oid, sid, pid)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p)
	})))
	mux.HandleFunc("POST /orgs/{oid}/stores/{sid}/products/{pid}/price", func(w http.ResponseWriter, r *http.Request) {
		oid, sid, pid, ok := ids(w, r)
		if !ok {
			return
		}
		cents, err := strconv.ParseInt(r.URL.Query().Get("cents"), 10, 64)
		if err != nil {
			http.Error(w, "want ?cents=N", http.StatusBadRequest)
			return
		}
		p, err := repo.GetProduct(r.Context(), oid, sid, pid)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		p.PriceCents = cents
		if err := repo.UpdateProduct(r.Context(), p); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("/debug/zoo/", http.StripPrefix("/debug/zoo", zoohttp.Debug(cache)))
	reg := prometheus.NewRegistry()
	reg.MustRegister(zooprom.NewCollector(cache))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux, nil
}

func ids(w http.ResponseWriter, r *http.Request) (oid, sid, pid int64, ok bool) {
	var err [3]error
	oid, err[0] = strconv.ParseInt(r.PathValue("oid"), 10, 64)
	sid, err[1] = strconv.ParseInt(r.PathValue("sid"), 10, 64)
	pid, err[2] = strconv.ParseInt(r.PathValue("pid"), 10, 64)
	for _, e := range err {
		if e != nil {
			http.Error(w, "ids are integers", http.StatusBadRequest)
			return 0, 0, 0, false
		}
	}
	return oid, sid, pid, true
}
