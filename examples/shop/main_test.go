package main

import (
	"bytes"
	"context"
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
