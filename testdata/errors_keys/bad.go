// Package errors_keys holds bad key= options, result references and
// references to unnamed parameters: zoogen reports each at its position.
package errors_keys

import (
	"context"
)

// Account is an account.
type Account struct {
	ID    string
	Owner *Account
	Meta  map[string]string
	Feed  chan int
}

// Name returns the account's name.
func (a *Account) Name() string { return a.ID }

// Repo is wrong in every way a key, a result reference or an unnamed
// parameter can be.
type Repo interface {
	//zoo:cache deps="a" key="<acount.ID>"
	KeyUnknownParam(ctx context.Context, account *Account) (int, error)

	//zoo:cache deps="a" key="<account.Username>"
	KeyUnknownField(ctx context.Context, account *Account) (int, error)

	//zoo:cache deps="a" key="<account.Feed>"
	KeyUnkeyable(ctx context.Context, account *Account) (int, error)

	//zoo:cache deps="a" key="<account.ID>,,<limit>"
	KeyEmptyItem(ctx context.Context, account *Account, limit int) (int, error)

	//zoo:cache deps="a" key="account.ID,<limit>"
	KeyText(ctx context.Context, account *Account, limit int) (int, error)

	//zoo:cache deps="a" key="<account.ID>:<limit>"
	KeyNotOneRef(ctx context.Context, account *Account, limit int) (int, error)

	//zoo:cache deps="a" key="<limit>,<account.ID>,<limit>"
	KeyTwice(ctx context.Context, account *Account, limit int) (int, error)

	//zoo:cache deps="a" key="<result>"
	KeyResult(ctx context.Context, id string) (*Account, error)

	//zoo:cache deps="a" key="<ctx>"
	KeyContext(ctx context.Context, id string) (*Account, error)

	//zoo:cache deps="a" key="<id>"
	KeyUnnamed(context.Context, string) (*Account, error)

	//zoo:invalidate deps="a:<id>" key="<id>"
	KeyOnInvalidate(ctx context.Context, id string) error

	//zoo:invalidate deps="account:<result.ID>"
	ResultOfErrorOnly(ctx context.Context, id string) error

	//zoo:invalidate deps="account:<result.Nope>"
	ResultUnknownField(ctx context.Context, id string) (*Account, error)

	//zoo:cache deps="account:<result.Meta>"
	ResultUntaggable(ctx context.Context, id string) (*Account, error)

	//zoo:invalidate deps="account:<result.ID>"
	ResultAmbiguous(ctx context.Context, result *Account) (*Account, error)

	//zoo:invalidate deps="account:<err>"
	ResultError(ctx context.Context, id string) (a *Account, err error)

	//zoo:invalidate deps="n:<result>"
	ResultNamedSecond(ctx context.Context, id string) (n int, result string, err error)

	//zoo:cache deps="user:<id>"
	DepsUnnamed(context.Context, int64) (string, error)

	//zoo:cache deps="user:<_p1>"
	DepsGeneratedName(context.Context, int64) (string, error)

	//zoo:cache deps="a:<x>,b:<y>"
	DepsTwoUnnamed(ctx context.Context, _ int64, _ string) (string, error)
}
