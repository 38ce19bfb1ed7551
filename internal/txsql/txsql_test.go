package txsql_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/zoogen/zoogen/internal/redistest"
	"github.com/zoogen/zoogen/internal/txsql"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// openDB opens a file database in WAL mode, where a reader reads the last
// committed rows while another connection's transaction is open, with
// account 1 named "old".
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "accounts.db") + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO accounts VALUES (1, 'old')`)
	require.NoError(t, err)
	var mode string
	require.NoError(t, db.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	require.Equal(t, "wal", mode)
	return db
}

// caches are the caches the race is run on: memory, and Redis in both
// modes.
func caches(t *testing.T) map[string]func(t *testing.T) *zoo.Cache {
	onRedis := func(mode zoo.Consistency) func(t *testing.T) *zoo.Cache {
		return func(t *testing.T) *zoo.Cache {
			client := redistest.Client(t)
			return newCache(t, zoo.WithStore(redisstore.New(client)), zoo.WithNamespace(redistest.Namespace(t, client)),
				zoo.WithConsistency(mode))
		}
	}
	return map[string]func(t *testing.T) *zoo.Cache{
		"memory":       func(t *testing.T) *zoo.Cache { return newCache(t) },
		"redis-local":  onRedis(zoo.Local),
		"redis-strict": onRedis(zoo.Strict),
	}
}

func newCache(t *testing.T, opts ...zoo.Option) *zoo.Cache {
	t.Helper()
	c, err := zoo.New(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// race renames account 1 to "new" in a transaction, run by unit, while a
// reader on the database reads it between the write and the commit. It
// returns the decorator the reader used.
func race(t *testing.T, db *sql.DB, c *zoo.Cache, unit func(context.Context, func(context.Context) error) error) *txsql.CachedAccounts {
	t.Helper()
	ctx := context.Background()
	reader := txsql.NewCachedAccounts(txsql.SQL{Q: db}, c)
	a, err := reader.Get(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "old", a.Name)

	written, read := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(read)
		<-written
		a, err := reader.Get(ctx, 1) // a miss: the write invalidated
		assert.NoError(t, err)
		assert.Equal(t, "old", a.Name, "the reader read the row before the commit")
	}()
	err = unit(ctx, func(ctx context.Context) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := txsql.NewCachedAccounts(txsql.SQL{Q: tx}, c).Rename(ctx, 1, "new"); err != nil {
			return err
		}
		close(written)
		<-read
		return tx.Commit()
	})
	require.NoError(t, err)
	var name string
	require.NoError(t, db.QueryRow(`SELECT name FROM accounts WHERE id = 1`).Scan(&name))
	require.Equal(t, "new", name, "committed")
	return reader
}

// Without AfterCommit the reader's pre-commit row is cached as fresh: the
// test reproduces the race.
func TestWithoutAfterCommitAReadAfterTheCommitIsStale(t *testing.T) {
	for name, cache := range caches(t) {
		t.Run(name, func(t *testing.T) {
			reader := race(t, openDB(t), cache(t), func(ctx context.Context, fn func(context.Context) error) error {
				return fn(ctx)
			})
			a, err := reader.Get(context.Background(), 1)
			require.NoError(t, err)
			assert.Equal(t, "old", a.Name, "stale: served the row read before the commit")
		})
	}
}

func TestAfterCommitNoReadAfterItIsStale(t *testing.T) {
	for name, cache := range caches(t) {
		t.Run(name, func(t *testing.T) {
			c := cache(t)
			reader := race(t, openDB(t), c, c.AfterCommit)
			for range 3 {
				a, err := reader.Get(context.Background(), 1)
				require.NoError(t, err)
				assert.Equal(t, "new", a.Name)
			}
		})
	}
}

// A rolled-back transaction leaves the old row, which is served again after
// one miss, and AfterCommit returns fn's error.
func TestAfterCommitRollback(t *testing.T) {
	errAborted := errors.New("aborted")
	ctx := context.Background()
	db := openDB(t)
	c := newCache(t)
	reader := txsql.NewCachedAccounts(txsql.SQL{Q: db}, c)
	err := c.AfterCommit(ctx, func(ctx context.Context) error {
		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err)
		require.NoError(t, txsql.NewCachedAccounts(txsql.SQL{Q: tx}, c).Rename(ctx, 1, "new"))
		return errors.Join(errAborted, tx.Rollback())
	})
	require.ErrorIs(t, err, errAborted)
	a, err := reader.Get(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "old", a.Name)
}
