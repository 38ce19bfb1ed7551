package main

import (
	"bytes"
	"context"
	"os"
	"testing"
)

func TestScenario(t *testing.T) {
	var out bytes.Buffer
	f, err := scenario(context.Background(), config{orgs: 2, stores: 3, products: 4}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	perOrg := int64(1 + 3*(2+4))
	want := figures{cold: 2 * perOrg, warm: 0, afterUpdate: 2, afterRename: perOrg, stampede: 1, renamedOrg: perOrg}
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
