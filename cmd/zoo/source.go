package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// source is where the command reads statistics and sends invalidations: one
// process's debug handler, or the Redis its instances share.
type source interface {
	stats(ctx context.Context) ([]zoo.Stats, error)
	tags(ctx context.Context, prefix string) ([]tagRow, error)
	invalidate(ctx context.Context, tags []string) error
	close()
}

type tagRow struct {
	Tag     string  `json:"tag"`
	Version string  `json:"version"`
	Age     float64 `json:"age_seconds"`
}

// debugSource talks to a zoohttp.Debug handler.
type debugSource struct {
	base   string
	client *http.Client
}

func (d *debugSource) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s: %s: %s", req.URL, resp.Status, d.where())
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s: %s", req.URL, resp.Status, strings.TrimSpace(string(body)))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("%s: answered %q, not JSON: %s", req.URL, ct, d.where())
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", req.URL, err)
	}
	return nil
}

// where is the hint for a URL that answers but not as the debug handler.
func (d *debugSource) where() string {
	return fmt.Sprintf("is zoohttp.Debug mounted at %s? -url takes the path it is mounted at, usually %s (-url http://host:port%s)",
		d.base, debugPath, debugPath)
}

func (d *debugSource) stats(ctx context.Context) ([]zoo.Stats, error) {
	var s zoo.Stats
	if err := d.get(ctx, "/", &s); err != nil {
		return nil, err
	}
	return []zoo.Stats{s}, nil
}

func (d *debugSource) tags(ctx context.Context, prefix string) ([]tagRow, error) {
	var rows []tagRow
	err := d.get(ctx, "/tags?prefix="+url.QueryEscape(prefix), &rows)
	return rows, err
}

func (d *debugSource) invalidate(ctx context.Context, tags []string) error {
	q := url.Values{"tag": tags}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+"/invalidate?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s: %s: %s", req.URL, resp.Status, d.where())
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

func (d *debugSource) close() {}

// redisSource reads what the instances of a namespace publish in Redis.
type redisSource struct {
	client redis.UniversalClient
	store  *redisstore.Store
}

func newRedisSource(addr, ns string) (*redisSource, error) {
	client := redisClient(addr)
	s := redisstore.New(client, redisstore.WithTimeout(5*time.Second))
	if err := s.Attach(ns, func(store.Event) {}); err != nil {
		client.Close()
		return nil, err
	}
	return &redisSource{client: client, store: s}, nil
}

func (r *redisSource) stats(ctx context.Context) ([]zoo.Stats, error) {
	reports, err := r.store.Reports(ctx)
	if err != nil {
		return nil, err
	}
	var out []zoo.Stats
	for instance, raw := range reports {
		var s zoo.Stats
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("the report of %s: %w", instance, err)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b zoo.Stats) int { return strings.Compare(a.Instance, b.Instance) })
	return out, nil
}

func (r *redisSource) tags(ctx context.Context, prefix string) ([]tagRow, error) {
	versions, err := r.store.Versions(ctx, prefix, 10_000)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	rows := make([]tagRow, 0, len(versions))
	for tag, v := range versions {
		rows = append(rows, tagRow{Tag: tag, Version: v.String(), Age: now.Sub(v.Time()).Seconds()})
	}
	slices.SortFunc(rows, func(a, b tagRow) int { return strings.Compare(a.Tag, b.Tag) })
	return rows, nil
}

func (r *redisSource) invalidate(ctx context.Context, tags []string) error {
	_, err := r.store.Invalidate(ctx, tags, 0)
	return err
}

func (r *redisSource) close() {
	r.store.Close()
	r.client.Close()
}

// redisClient returns a client of the Redis at addr: a cluster client when
// addr lists several nodes (a,b,c) or the one node it names has cluster
// mode enabled, a plain client otherwise.
func redisClient(addr string) redis.UniversalClient {
	addrs := strings.Split(addr, ",")
	if len(addrs) == 1 {
		c := redis.NewClient(&redis.Options{Addr: addr})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if info, err := c.Info(ctx, "cluster").Result(); err != nil || !strings.Contains(info, "cluster_enabled:1") {
			return c // not a cluster, or not answering: the command says so
		}
		c.Close()
	}
	return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
}
