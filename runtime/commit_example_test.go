package runtime_test

import (
	"context"
	"fmt"

	zoo "github.com/zoogen/zoogen/runtime"
)

// A write inside a transaction, and a reader between the write and the
// commit. The methods stand for a generated decorator's: a read of a
// product's price and a write that invalidates its tag.
func ExampleCache_AfterCommit() {
	ctx := context.Background()
	cache, err := zoo.New()
	if err != nil {
		panic(err)
	}
	defer cache.Close()
	read := cache.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Repo", Method: "Price"})
	write := cache.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Repo", Method: "SetPrice"})

	committed := 100 // the price in the database
	price := func() int {
		v, _ := zoo.Load(ctx, read, read.Key(nil), func(ctx context.Context) (int, error) {
			zoo.AddDeps(ctx, "product:1")
			return committed, nil
		})
		return v
	}

	fmt.Println("before:", price())
	err = cache.AfterCommit(ctx, func(ctx context.Context) error {
		// tx.ExecContext(ctx, "UPDATE products SET price = 120 ..."), then:
		write.Invalidate(ctx, "product:1")
		fmt.Println("read before the commit:", price()) // cached, as of after the invalidation
		committed = 120                                 // tx.Commit()
		return nil
	})
	fmt.Println("after:", price(), err)
	// Output:
	// before: 100
	// read before the commit: 100
	// after: 120 <nil>
}
