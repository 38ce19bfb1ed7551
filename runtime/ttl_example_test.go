package runtime_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
)

// A token cached until its own expiry rather than for the method's TTL,
// and a token that has expired already, which is not cached. The method
// stands for a generated decorator's; the clock is moved by hand.
func ExampleSetTTL() {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	cache, err := zoo.New(zoo.WithClock(clock))
	if err != nil {
		panic(err)
	}
	defer cache.Close()
	tokens := cache.Method(zoo.MethodSpec{Package: "example.com/auth", Interface: "Issuer", Method: "Token", TTL: time.Hour})

	issued := 0
	token := func(account string, lifetime time.Duration) string {
		v, _ := zoo.Load(ctx, tokens, zoo.KeyString(tokens.Key(nil), account), func(ctx context.Context) (string, error) {
			issued++
			expiry := clock().Add(lifetime) // the token's own expiry, from the issuer
			zoo.SetTTL(ctx, expiry.Sub(clock()))
			return fmt.Sprintf("%s-%d", account, issued), nil
		})
		return v
	}

	fmt.Println(token("ann", 30*time.Second), token("ann", 30*time.Second))
	mu.Lock()
	now = now.Add(31 * time.Second) // the token's 30 s are up; the method's hour is not
	mu.Unlock()
	fmt.Println(token("ann", 30*time.Second))
	fmt.Println(token("bob", 0), token("bob", 0)) // expired at issue: never cached
	// Output:
	// ann-1 ann-1
	// ann-2
	// bob-3 bob-4
}
