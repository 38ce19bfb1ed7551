// Package txsql is a repository over a SQL database or a transaction, with
// a zoogen decorator: the tests show the race of a read between a write
// inside a transaction and its commit, and how Cache.AfterCommit closes it.
package txsql

import (
	"context"
	"database/sql"
)

//go:generate go run github.com/zoogen/zoogen/cmd/zoogen

// Account is a row of the accounts table.
type Account struct {
	ID   int64
	Name string
}

// Accounts reads and renames accounts.
type Accounts interface {
	//zoo:cache deps="account:<id>"
	Get(ctx context.Context, id int64) (Account, error)

	//zoo:invalidate deps="account:<id>"
	Rename(ctx context.Context, id int64, name string) error
}

// Querier is what *sql.DB and *sql.Tx have in common that SQL uses.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// SQL is the raw repository over a database or a transaction.
type SQL struct{ Q Querier }

var _ Accounts = SQL{}

// Get reads an account.
func (s SQL) Get(ctx context.Context, id int64) (Account, error) {
	a := Account{ID: id}
	err := s.Q.QueryRowContext(ctx, `SELECT name FROM accounts WHERE id = ?`, id).Scan(&a.Name)
	return a, err
}

// Rename renames an account.
func (s SQL) Rename(ctx context.Context, id int64, name string) error {
	_, err := s.Q.ExecContext(ctx, `UPDATE accounts SET name = ? WHERE id = ?`, name, id)
	return err
}
