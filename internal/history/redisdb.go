package history

import (
	"context"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// RedisDB is the versioned database of runs that span several processes:
// every row is a counter in Redis (GET reads it, INCR writes it), which
// every process sees the same, linearizably.
type RedisDB struct {
	client redis.UniversalClient
	prefix string
	faults Faults
}

var _ Rows = (*RedisDB)(nil)

// NewRedisDB returns a database of rows kept under prefix in Redis.
func NewRedisDB(client redis.UniversalClient, prefix string, f Faults) *RedisDB {
	return &RedisDB{client: client, prefix: prefix, faults: f}
}

func (d *RedisDB) key(id int64) string { return d.prefix + strconv.FormatInt(id, 10) }

// Get reads a row, or misbehaves as the faults say.
func (d *RedisDB) Get(ctx context.Context, id int64) (Row, error) {
	if err := d.faults.inject(ctx); err != nil {
		return Row{}, err
	}
	v, err := d.client.Get(ctx, d.key(id)).Int64()
	if err == redis.Nil {
		err = nil
	}
	return Row{ID: id, Version: v}, err
}

// Put writes a row: its version goes up by one.
func (d *RedisDB) Put(ctx context.Context, r Row) (int64, error) {
	return d.client.Incr(ctx, d.key(r.ID)).Result()
}
