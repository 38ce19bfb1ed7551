package gtsdb

import (
	"context"
	"testing"

	zoo "github.com/zoogen/zoogen/runtime"
)

// accountGetter is the method both decorators have.
type accountGetter interface {
	GetAccountByID(ctx context.Context, id string) (*Account, Error)
}

// BenchmarkGetAccountByIDHit measures what copy=true costs a hit: the same
// method with copy=true (a MessagePack decode per hit) and without (the
// shared pointer). Compare them side by side: here,
//
//	go test -run '^$' -bench . -count 6 > /tmp/copy.txt
//
// then, from the repository root,
//
//	go tool -modfile=tools.mod benchstat -col /copy /tmp/copy.txt
func BenchmarkGetAccountByIDHit(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		new  func(db *bunDB, c *zoo.Cache) accountGetter
	}{
		{"copy=true", func(db *bunDB, c *zoo.Cache) accountGetter { return NewCachedAccountDB(db, c) }},
		{"copy=false", func(db *bunDB, c *zoo.Cache) accountGetter { return NewCachedUncopiedAccountDB(db, c) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := zoo.New()
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			db := newBunDB()
			repo := bc.new(db, c)
			if _, err := repo.GetAccountByID(ctx, "01F8"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := repo.GetAccountByID(ctx, "01F8"); err != nil {
					b.Fatal(err)
				}
			}
			if n := db.calls["GetAccountByID"].Load(); n != 1 {
				b.Fatalf("%d loads, want 1: not a hit", n)
			}
		})
	}
}
