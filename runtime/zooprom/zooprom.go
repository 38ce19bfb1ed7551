// Package zooprom exports a cache's statistics as Prometheus metrics.
//
//	cache, err := zoo.New(zoo.WithStats(true), ...)
//	...
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(zooprom.NewCollector(cache))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The [Collector] reads [runtime.Cache.Stats] when it is scraped: the cache
// does no Prometheus work on its own paths. Labels name the namespace and
// the package, interface and method of each cached or invalidating method;
// tags and keys are never labels, so the number of series is bounded by the
// number of methods, however many entries and tags there are.
//
// The per-method series need the cache's per-method counters, which are off
// unless the cache is built with [runtime.WithStats](true); without them
// only the per-namespace series are exported.
package zooprom

import (
	"github.com/prometheus/client_golang/prometheus"

	zoo "github.com/zoogen/zoogen/runtime"
)

// Collector is a prometheus.Collector for one cache.
type Collector struct {
	cache *zoo.Cache

	hits, misses, loads, loadErrors, coalesced     *prometheus.Desc
	decodeFailures, failOpens, methodInvalidations *prometheus.Desc
	oversized, uncopyable                          *prometheus.Desc
	refreshes, refreshErrors, staleServed          *prometheus.Desc
	batches, elementsLoaded                        *prometheus.Desc
	loadDuration                                   *prometheus.Desc
	invalidations, evictions, tagNodes, connected  *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a collector of c's statistics. Register one per
// cache; caches are told apart by their namespace label. Build c with
// [runtime.WithStats](true) for the per-method series.
func NewCollector(c *zoo.Cache) *Collector {
	method := []string{"namespace", "package", "interface", "method"}
	cache := []string{"namespace"}
	d := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc("zoo_"+name, help, labels, nil)
	}
	return &Collector{
		cache:               c,
		hits:                d("hits_total", "Calls served from the cache; for a batch read (each=), elements.", method),
		misses:              d("misses_total", "Calls not served from the cache; for a batch read (each=), elements.", method),
		loads:               d("loads_total", "Calls of the repository made for misses.", method),
		loadErrors:          d("load_errors_total", "Loads that failed or panicked; their results were not cached.", method),
		coalesced:           d("coalesced_total", "Callers that waited for another caller's load of the same key.", method),
		decodeFailures:      d("decode_failures_total", "Entries in the store that did not decode, served as misses.", method),
		failOpens:           d("fail_opens_total", "Calls that went to the repository because the store failed.", method),
		methodInvalidations: d("method_invalidations_total", "Invalidations made by an invalidating method after a successful write.", method),
		loadDuration:        d("load_duration_seconds", "How long loads took.", method),
		oversized:           d("oversized_total", "Loaded values over the size limit, served and not cached.", method),
		uncopyable:          d("uncopyable_total", "Loaded values of a copying method that did not survive a MessagePack round trip, served to their loader only and not cached.", method),
		refreshes:           d("refreshes_total", "Background reloads of entries older than their method's refresh interval (counted in loads_total too).", method),
		refreshErrors:       d("refresh_errors_total", "Background reloads that failed; the old entry stayed.", method),
		staleServed:         d("stale_served_total", "Failed loads answered with an expired entry (stale-if-error).", method),
		batches:             d("batches_total", "Calls of a batch read (each=).", method),
		elementsLoaded:      d("elements_loaded_total", "Elements the loads of a batch read (each=) asked the repository for.", method),
		invalidations:       d("invalidations_total", "Invalidations, from methods and from Cache.Invalidate.", cache),
		evictions:           d("evictions_total", "Entries the memory tier dropped for room.", cache),
		tagNodes:            d("tag_nodes", "Nodes in the tag trie.", cache),
		connected:           d("connected", "1 while a shared store's invalidations reach this process (always 1 without one).", cache),
	}
}

// Describe sends the descriptors of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.hits, c.misses, c.loads, c.loadErrors, c.coalesced, c.decodeFailures,
		c.failOpens, c.methodInvalidations, c.oversized, c.uncopyable, c.refreshes, c.refreshErrors, c.staleServed,
		c.batches, c.elementsLoaded, c.loadDuration, c.invalidations, c.evictions, c.tagNodes, c.connected} {
		ch <- d
	}
}

// Collect sends the current value of every metric.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.cache.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, m := range s.Methods {
		l := []string{s.Namespace, m.Package, m.Interface, m.Method}
		counter(c.hits, m.Hits, l...)
		counter(c.misses, m.Misses, l...)
		counter(c.loads, m.Loads, l...)
		counter(c.loadErrors, m.LoadErrors, l...)
		counter(c.coalesced, m.Coalesced, l...)
		counter(c.decodeFailures, m.DecodeFailures, l...)
		counter(c.failOpens, m.FailOpens, l...)
		counter(c.methodInvalidations, m.Invalidations, l...)
		counter(c.oversized, m.Oversized, l...)
		counter(c.uncopyable, m.Uncopyable, l...)
		counter(c.refreshes, m.Refreshes, l...)
		counter(c.refreshErrors, m.RefreshErrors, l...)
		counter(c.staleServed, m.StaleServed, l...)
		counter(c.batches, m.Batches, l...)
		counter(c.elementsLoaded, m.ElementsLoaded, l...)
		buckets := make(map[float64]uint64, len(zoo.LoadBuckets))
		var cumulative uint64
		for i, le := range zoo.LoadBuckets {
			cumulative += m.LoadDurationCounts[i]
			buckets[le] = cumulative
		}
		total := cumulative + m.LoadDurationCounts[len(zoo.LoadBuckets)]
		ch <- prometheus.MustNewConstHistogram(c.loadDuration, total, m.LoadDurationSum, buckets, l...)
	}
	counter(c.invalidations, s.Invalidations, s.Namespace)
	counter(c.evictions, s.Evictions, s.Namespace)
	ch <- prometheus.MustNewConstMetric(c.tagNodes, prometheus.GaugeValue, float64(s.TagNodes), s.Namespace)
	connected := 0.0
	if s.Connected {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, connected, s.Namespace)
}
