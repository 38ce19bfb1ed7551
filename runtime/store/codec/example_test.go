package codec_test

import (
	"fmt"

	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/codec"
)

type Product struct {
	ID   int64
	Name string
}

func Example() {
	var c codec.Codec // the defaults

	// A byte store's Set frames the entry...
	b, err := c.Encode(&store.Entry{Value: Product{ID: 1, Name: "Tea"}, AsOf: 7, Tags: []string{"product:1"}})
	if err != nil {
		panic(err)
	}

	// ...and its Get hands it back with the value still encoded.
	e, err := c.Decode(b)
	if err != nil {
		panic(err) // a real store reports an error wrapping store.ErrCorrupt: a miss
	}
	var p Product
	if err := e.Value.(codec.Raw).Decode(&p); err != nil {
		panic(err)
	}
	fmt.Println(p.Name, uint64(e.AsOf), e.Tags, e.Expires.IsZero())
	fmt.Printf("% x\n", b[:4])
	// Output:
	// Tea 7 [product:1] true
	// 7a 6f 01 00
}
