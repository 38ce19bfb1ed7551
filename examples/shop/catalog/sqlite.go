package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver
)

// SQLite is the raw repository: every call runs SQL. It counts the queries
// that reach the database, which is how the example shows what the cache
// saves.
type SQLite struct {
	db      *sql.DB
	queries atomic.Int64
}

var _ Repo = (*SQLite)(nil)

// OpenSQLite opens an in-memory database and fills it with orgs
// organisations of stores stores each, with products products per store and
// a few reviews each.
func OpenSQLite(ctx context.Context, orgs, stores, products int) (*SQLite, error) {
	// One connection: an in-memory database lives in its connection.
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	s := &SQLite{db: db}
	if err := s.fill(ctx, orgs, stores, products); err != nil {
		db.Close()
		return nil, fmt.Errorf("filling the database: %w", err)
	}
	return s, nil
}

func (s *SQLite) fill(ctx context.Context, orgs, stores, products int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range []string{
		`CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
		`CREATE TABLE stores (org_id INTEGER NOT NULL, id INTEGER NOT NULL, name TEXT NOT NULL, PRIMARY KEY (org_id, id))`,
		`CREATE TABLE products (org_id INTEGER NOT NULL, store_id INTEGER NOT NULL, id INTEGER PRIMARY KEY,
			name TEXT NOT NULL, price_cents INTEGER NOT NULL)`,
		`CREATE INDEX products_by_store ON products (org_id, store_id)`,
		`CREATE TABLE reviews (product_id INTEGER NOT NULL, stars INTEGER NOT NULL, text TEXT NOT NULL)`,
		`CREATE INDEX reviews_by_product ON reviews (product_id)`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	pid := int64(0)
	for o := 1; o <= orgs; o++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO orgs VALUES (?, ?)`, o, fmt.Sprintf("Org %d", o)); err != nil {
			return err
		}
		for st := 1; st <= stores; st++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO stores VALUES (?, ?, ?)`, o, st, fmt.Sprintf("Store %d-%d", o, st)); err != nil {
				return err
			}
			for range products {
				pid++
				if _, err := tx.ExecContext(ctx, `INSERT INTO products VALUES (?, ?, ?, ?, ?)`,
					o, st, pid, fmt.Sprintf("Product %d", pid), 100+pid%900); err != nil {
					return err
				}
				for r := range 3 {
					if _, err := tx.ExecContext(ctx, `INSERT INTO reviews VALUES (?, ?, ?)`,
						pid, 1+(int(pid)+r)%5, "fine"); err != nil {
						return err
					}
				}
			}
		}
	}
	return tx.Commit()
}

// Queries returns the number of queries that reached the database so far.
func (s *SQLite) Queries() int64 { return s.queries.Load() }

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

func (s *SQLite) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	s.queries.Add(1)
	return s.db.QueryRowContext(ctx, q, args...)
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// GetOrg reads an organisation.
func (s *SQLite) GetOrg(ctx context.Context, oid int64) (Org, error) {
	o := Org{ID: oid}
	err := s.queryRow(ctx, `SELECT name FROM orgs WHERE id = ?`, oid).Scan(&o.Name)
	return o, notFound(err)
}

// GetStore reads a store.
func (s *SQLite) GetStore(ctx context.Context, oid, sid int64) (Store, error) {
	st := Store{OrgID: oid, ID: sid}
	err := s.queryRow(ctx, `SELECT name FROM stores WHERE org_id = ? AND id = ?`, oid, sid).Scan(&st.Name)
	return st, notFound(err)
}

// ListProducts reads a store's products.
func (s *SQLite) ListProducts(ctx context.Context, oid, sid int64) ([]Product, error) {
	s.queries.Add(1)
	rows, err := s.db.QueryContext(ctx,
		`SELECT id, name, price_cents FROM products WHERE org_id = ? AND store_id = ? ORDER BY id`, oid, sid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Product
	for rows.Next() {
		p := Product{OrgID: oid, StoreID: sid}
		if err := rows.Scan(&p.ID, &p.Name, &p.PriceCents); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// GetProduct reads a product.
func (s *SQLite) GetProduct(ctx context.Context, oid, sid, pid int64) (Product, error) {
	p := Product{OrgID: oid, StoreID: sid, ID: pid}
	err := s.queryRow(ctx, `SELECT name, price_cents FROM products WHERE org_id = ? AND store_id = ? AND id = ?`,
		oid, sid, pid).Scan(&p.Name, &p.PriceCents)
	return p, notFound(err)
}

// GetProducts reads the products of pids that exist, in one query.
func (s *SQLite) GetProducts(ctx context.Context, oid, sid int64, pids []int64) (map[int64]Product, error) {
	out := make(map[int64]Product, len(pids))
	if len(pids) == 0 {
		return out, nil
	}
	args := []any{oid, sid}
	for _, pid := range pids {
		args = append(args, pid)
	}
	s.queries.Add(1)
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, price_cents FROM products WHERE org_id = ? AND store_id = ? AND id IN (?`+
		strings.Repeat(", ?", len(pids)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		p := Product{OrgID: oid, StoreID: sid}
		if err := rows.Scan(&p.ID, &p.Name, &p.PriceCents); err != nil {
			return nil, err
		}
		out[p.ID] = p
	}
	return out, rows.Err()
}

// Reviews reads a product's reviews.
func (s *SQLite) Reviews(ctx context.Context, oid, sid, pid int64) ([]Review, error) {
	s.queries.Add(1)
	rows, err := s.db.QueryContext(ctx, `SELECT stars, text FROM reviews WHERE product_id = ?`, pid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Review
	for rows.Next() {
		r := Review{ProductID: pid}
		if err := rows.Scan(&r.Stars, &r.Text); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UpdateProduct writes a product's name and price.
func (s *SQLite) UpdateProduct(ctx context.Context, p Product) error {
	s.queries.Add(1)
	res, err := s.db.ExecContext(ctx, `UPDATE products SET name = ?, price_cents = ? WHERE org_id = ? AND store_id = ? AND id = ?`,
		p.Name, p.PriceCents, p.OrgID, p.StoreID, p.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// RenameOrg renames an organisation.
func (s *SQLite) RenameOrg(ctx context.Context, oid int64, name string) error {
	s.queries.Add(1)
	_, err := s.db.ExecContext(ctx, `UPDATE orgs SET name = ? WHERE id = ?`, name, oid)
	return err
}
