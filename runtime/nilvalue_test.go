package runtime_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
)

// TestNilInterfaceValuesAreCached: a method whose result is an interface
// (any, error, an io.Reader) may return nil as its value; that nil is cached
// like any other value, in memory and in a byte store, instead of reaching
// the repository on every call.
func TestNilInterfaceValuesAreCached(t *testing.T) {
	for name, opts := range map[string][]zoo.Option{
		"memory":     nil,
		"byte store": {zoo.WithStore(newByteStore())},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newCache(t, opts...)
			anyM := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Settings", Method: "Get"})
			errM := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Checks", Method: "LastFailure"})
			loads := 0
			for range 3 {
				v, err := zoo.Load(ctx, anyM, anyM.Key(nil), func(context.Context) (any, error) {
					loads++
					return nil, nil
				})
				require.NoError(t, err)
				require.Nil(t, v)
				failure, err := zoo.Load(ctx, errM, errM.Key(nil), func(context.Context) (error, error) {
					loads++
					return nil, nil // no failure yet: the value is a nil error
				})
				require.NoError(t, err)
				require.Nil(t, failure)
			}
			require.Equal(t, 2, loads, "a nil value was not cached")
		})
	}
}

// TestInterfaceValuesFromAByteStoreAreDecoded: a hit of a method whose
// result is any, served from a byte store, is the decoded value, never the
// encoded bytes (an any matches those too).
func TestInterfaceValuesFromAByteStoreAreDecoded(t *testing.T) {
	ctx := context.Background()
	c := newCache(t, zoo.WithStore(newByteStore()))
	m := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Settings", Method: "Theme"})
	for range 2 {
		v, err := zoo.Load(ctx, m, m.Key(nil), func(context.Context) (any, error) { return "dark", nil })
		require.NoError(t, err)
		require.Equal(t, "dark", v)
	}
}
