// Package errors_results holds bad error results and bad copy= options:
// zoogen reports each, at its position, and writes nothing.
package errors_results

import (
	"context"
	"errors"
)

// ErrMissing is a sentinel.
var ErrMissing = errors.New("missing")

// CodeError implements error on its value: it cannot be nil, so it cannot
// say there was no error.
type CodeError struct{ Code int }

func (e CodeError) Error() string { return "code" }

// Repo is wrong in every way an error result or copy= can be.
type Repo interface {
	//zoo:cache deps="item:<id>"
	ValueError(ctx context.Context, id int64) (string, CodeError)

	//zoo:invalidate deps="item:<id>"
	ValueErrorWrite(ctx context.Context, id int64) CodeError

	//zoo:cache deps="item:<id>" errors=ErrMissing
	NoErrorResult(ctx context.Context, id int64) string

	//zoo:cache deps="item:<id>" copy=yes
	CopyNotBool(ctx context.Context, id int64) (string, error)

	// Not annotated: any last result passes through.
	Passthrough(ctx context.Context) CodeError
}
