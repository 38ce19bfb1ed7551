package history

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"
)

//go:generate go tool zoogen

// Row is a row of the database: its version grows with every write.
type Row struct {
	ID      int64
	Version int64
}

// Rows is the repository the clients use, through its generated decorator.
type Rows interface {
	//zoo:cache deps="table:rows:row:<id>" ttl=1m
	Get(ctx context.Context, id int64) (Row, error)

	// Put writes a row and returns the version it wrote.
	//zoo:invalidate deps="table:rows:row:<r.ID>"
	Put(ctx context.Context, r Row) (int64, error)
}

// ErrInjected is the error a DB returns when a fault says so.
var ErrInjected = errors.New("history: injected fault")

// Faults make a DB misbehave, for the clients' loads: each is a
// probability per read.
type Faults struct {
	Panic   float64       // the read panics
	Slow    float64       // the read takes SlowFor
	SlowFor time.Duration // how long a slow read takes
	Fail    float64       // the read fails with ErrInjected
}

// DB is a versioned fake database, the raw Rows repository. It is safe for
// concurrent use.
type DB struct {
	mu     sync.Mutex
	rows   map[int64]int64
	faults Faults
}

var _ Rows = (*DB)(nil)

// NewDB returns an empty database with the given faults.
func NewDB(f Faults) *DB { return &DB{rows: map[int64]int64{}, faults: f} }

// inject misbehaves as the faults say, for one read: it panics, fails,
// waits, or does nothing.
func (f Faults) inject(ctx context.Context) error {
	switch p := rand.Float64(); {
	case p < f.Panic:
		panic("history: injected panic")
	case p < f.Panic+f.Fail:
		return ErrInjected
	case p < f.Panic+f.Fail+f.Slow:
		select {
		case <-time.After(f.SlowFor):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Get reads a row, or misbehaves as the faults say.
func (d *DB) Get(ctx context.Context, id int64) (Row, error) {
	if err := d.faults.inject(ctx); err != nil {
		return Row{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return Row{ID: id, Version: d.rows[id]}, nil
}

// Put writes a row: its version goes up by one, whatever r.Version says.
func (d *DB) Put(ctx context.Context, r Row) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rows[r.ID]++
	return d.rows[r.ID], nil
}
