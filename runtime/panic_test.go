package runtime_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
)

// TestPanicOutsideAFlightIsAPanicError: a load that runs in the caller's
// goroutine, outside any flight (here because the cache is closed), panics
// with a *PanicError like a shared one, as Load documents.
func TestPanicOutsideAFlightIsAPanicError(t *testing.T) {
	c, err := zoo.New()
	require.NoError(t, err)
	m := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Repo", Method: "Get"})
	require.NoError(t, c.Close())
	defer func() {
		p, ok := recover().(*zoo.PanicError)
		require.True(t, ok, "the panic is not a *zoo.PanicError")
		require.Equal(t, "broken row", p.Value)
		require.NotEmpty(t, p.Stack)
	}()
	_, _ = zoo.Load(context.Background(), m, m.Key(nil), func(context.Context) (int, error) { panic("broken row") })
	t.Fatal("Load returned")
}
