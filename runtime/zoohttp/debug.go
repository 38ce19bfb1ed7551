package zoohttp

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
)

// Debug returns a handler that shows a cache to operators. Mount it under
// a prefix of your choice, behind whatever protects your debug endpoints:
//
//	mux.Handle("/debug/zoo/", http.StripPrefix("/debug/zoo", zoohttp.Debug(cache)))
//
// It serves, relative to where it is mounted:
//
//	GET  /                   statistics: an HTML page, or JSON (zoo.Stats) when
//	                         asked for (Accept: application/json or ?format=json)
//	GET  /tags?prefix=P      the tags at or below P this process has seen
//	                         invalidated, with versions and ages (JSON)
//	POST /invalidate?tag=T   invalidates T (several tag parameters allowed)
func Debug(c *zoo.Cache) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := c.Stats()
		if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
			writeJSON(w, s)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, s)
	})
	mux.HandleFunc("GET /tags", func(w http.ResponseWriter, r *http.Request) {
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil || limit <= 0 {
			limit = 1000
		}
		now := time.Now()
		type row struct {
			Tag     string  `json:"tag"`
			Version string  `json:"version"`
			AgeSecs float64 `json:"age_seconds"`
		}
		rows := []row{}
		for _, tv := range c.Tags(r.URL.Query().Get("prefix"), limit) {
			rows = append(rows, row{Tag: tv.Tag, Version: tv.Version.String(), AgeSecs: now.Sub(tv.Version.Time()).Seconds()})
		}
		writeJSON(w, rows)
	})
	mux.HandleFunc("POST /invalidate", func(w http.ResponseWriter, r *http.Request) {
		tags := r.URL.Query()["tag"]
		if len(tags) == 0 {
			http.Error(w, "zoohttp: give the tags to invalidate as tag=... parameters", http.StatusBadRequest)
			return
		}
		if err := c.Invalidate(r.Context(), tags...); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		writeJSON(w, map[string]any{"invalidated": tags})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func ratio(hits, misses uint64) string {
	if hits+misses == 0 {
		return "–"
	}
	return strconv.FormatFloat(100*float64(hits)/float64(hits+misses), 'f', 1, 64) + "%"
}

var page = template.Must(template.New("zoo").Funcs(template.FuncMap{"ratio": ratio}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>zoo: {{.Instance}}</title>
<meta http-equiv="refresh" content="5">
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}
td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}</style>
</head><body>
<h1>zoo cache {{.Namespace}} on {{.Instance}}</h1>
<p>{{.Consistency}} consistency{{if .Shared}}, shared store {{if .Connected}}connected{{else}}<strong>not connected</strong>{{end}}{{end}} ·
{{.Invalidations}} invalidations · {{.Evictions}} evictions · {{.TagNodes}} tag nodes · clock {{.Clock}}</p>
<table><tr><th>method</th><th>hits</th><th>misses</th><th>hit ratio</th><th>loads</th><th>load errors</th>
<th>coalesced</th><th>decode failures</th><th>fail-opens</th><th>invalidations</th><th>refreshes</th><th>refresh errors</th><th>stale served</th></tr>
{{range .Methods}}<tr><td>{{.Interface}}.{{.Method}}</td><td>{{.Hits}}</td><td>{{.Misses}}</td><td>{{ratio .Hits .Misses}}</td>
<td>{{.Loads}}</td><td>{{.LoadErrors}}</td><td>{{.Coalesced}}</td><td>{{.DecodeFailures}}</td><td>{{.FailOpens}}</td><td>{{.Invalidations}}</td><td>{{.Refreshes}}</td><td>{{.RefreshErrors}}</td><td>{{.StaleServed}}</td></tr>
{{end}}</table>
{{if not .MethodCounters}}<p>Per-method counters are off: the cache was built without <code>zoo.WithStats(true)</code>.</p>{{end}}
<p><a href="?format=json">JSON</a> · <a href="tags">tags</a></p>
</body></html>
`))
