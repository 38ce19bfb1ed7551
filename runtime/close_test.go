package runtime_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store"
)

// closingStore is a byte store that counts the calls made after its Close.
type closingStore struct {
	*byteStore
	closed   atomic.Bool
	lateSets atomic.Int64
}

func (s *closingStore) Set(ctx context.Context, key string, e *store.Entry) error {
	if s.closed.Load() {
		s.lateSets.Add(1)
		return store.ErrClosed
	}
	return s.byteStore.Set(ctx, key, e)
}

func (s *closingStore) Close() error {
	s.closed.Store(true)
	return nil
}

// TestCloseAbandonsLoadsThatNeverReturn: Close waits for loads in flight
// only as long as WithCloseWait says, then closes the stores and says how
// many loads it abandoned. Those loads' callers still get their results
// when the loads return, and nothing is written to the closed stores.
func TestCloseAbandonsLoadsThatNeverReturn(t *testing.T) {
	ctx := context.Background()
	s := &closingStore{byteStore: newByteStore()}
	const wait = 50 * time.Millisecond
	c, err := zoo.New(zoo.WithStore(s), zoo.WithCloseWait(wait), zoo.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	m := productMethod(c)

	release := make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	var started, done sync.WaitGroup
	results := make([]int, 2)
	for i := range 2 {
		started.Add(1)
		done.Go(func() {
			v, err := zoo.Load(ctx, m, zoo.KeyInt(m.Key(nil), int64(i)), func(context.Context) (int, error) {
				started.Done()
				<-release // never, while Close runs
				return 10 + i, nil
			})
			assert.NoError(t, err)
			results[i] = v
		})
	}
	started.Wait()

	begun := time.Now()
	err = c.Close()
	took := time.Since(begun)
	require.Error(t, err, "Close abandoned two loads and said nothing")
	assert.ErrorContains(t, err, "2 loads")
	assert.Less(t, took, wait+5*time.Second, "Close did not give up on loads that never return")
	require.NoError(t, c.Close(), "a second Close")

	// The abandoned loads return after all: their callers get the values,
	// and the closed store is not written to.
	close(release)
	done.Wait()
	assert.Equal(t, []int{10, 11}, results)
	assert.Zero(t, s.lateSets.Load(), "an abandoned load wrote to a closed store")

	// Loads that return within the wait are waited for, and stored.
	s2 := &closingStore{byteStore: newByteStore()}
	c2, err := zoo.New(zoo.WithStore(s2), zoo.WithCloseWait(10*time.Second))
	require.NoError(t, err)
	m2 := productMethod(c2)
	quick := make(chan struct{})
	loaded := make(chan struct{})
	go func() {
		_, _ = zoo.Load(ctx, m2, zoo.KeyInt(m2.Key(nil), 1), func(context.Context) (int, error) {
			close(loaded)
			<-quick
			return 1, nil
		})
	}()
	<-loaded
	time.AfterFunc(20*time.Millisecond, func() { close(quick) })
	require.NoError(t, c2.Close())
	assert.Zero(t, s2.lateSets.Load())
	assert.Len(t, s2.data, 1, "a load that returned within the wait was not stored")
}

// TestNegativeCloseWaitIsRejected: a negative wait is a bad option.
func TestNegativeCloseWaitIsRejected(t *testing.T) {
	_, err := zoo.New(zoo.WithCloseWait(-time.Second))
	require.ErrorIs(t, err, zoo.ErrBadOption)
	require.ErrorContains(t, err, "close wait -1s is negative")
}
