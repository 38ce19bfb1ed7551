package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	zoo "github.com/zoogen/zoogen/runtime"

	"github.com/zoogen/zoogen/examples/shop/catalog"
)

func TestScenario(t *testing.T) {
	var out bytes.Buffer
	f, err := scenario(context.Background(), config{orgs: 2, stores: 3, products: 4}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	perOrg := int64(1 + 3*(2+4))
	want := figures{cold: 2 * perOrg, warm: 0, afterUpdate: 2, afterRename: perOrg, stampede: 1, renamedOrg: perOrg,
		cartCold: 1, cartAfter: 1, cartAsked: 2}
	if f != want {
		t.Errorf("figures = %+v, want %+v\n%s", f, want, out.String())
	}
}

func TestScenarioOnRedis(t *testing.T) {
	addr := os.Getenv("ZOO_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	for _, strict := range []bool{false, true} {
		var out bytes.Buffer
		f, err := scenario(context.Background(), config{orgs: 2, stores: 3, products: 4, redis: addr, strict: strict}, &out)
		if err != nil {
			t.Fatalf("strict=%v: %v\n%s", strict, err, out.String())
		}
		if f.stampede != 1 || f.warm != 0 {
			t.Errorf("strict=%v: figures = %+v\n%s", strict, f, out.String())
		}
	}
}

func TestServer(t *testing.T) {
	ctx := context.Background()
	db, err := catalog.OpenSQLite(ctx, 2, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cache, err := zoo.New(zoo.WithStats(true))
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	h, err := newServer(catalog.NewCachedRepo(db, cache), cache)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(path string) (int, string, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Cache-Status"), string(body)
	}
	const page = "/orgs/1/stores/2/products/4"
	if code, status, _ := get(page); code != 200 || status != "zoo; miss" {
		t.Fatalf("first GET: %d %q", code, status)
	}
	before := db.Queries()
	if _, status, _ := get(page); status != "zoo; hit" {
		t.Fatalf("second GET: %q", status)
	}
	if db.Queries() != before {
		t.Fatal("a cached page reached the database")
	}
	resp, err := http.Post(srv.URL+page+"/price?cents=999", "", nil)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("price update: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, status, body := get(page); status != "zoo; miss" || !strings.Contains(body, `"PriceCents":999`) {
		t.Fatalf("after the update: %q %s", status, body)
	}
	if _, _, metrics := get("/metrics"); !strings.Contains(metrics, `zoo_hits_total{interface="Middleware",method="product-page"`) {
		t.Fatalf("metrics:\n%s", metrics)
	}
	if code, _, _ := get("/debug/zoo/"); code != 200 {
		t.Fatal("debug page")
	}
}
