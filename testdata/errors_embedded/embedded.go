// Package errors_embedded has bad annotations on methods that several
// annotated interfaces embed: each problem is reported once, at the
// annotation, however many interfaces check the method.
package errors_embedded

import "context"

// Base is annotated itself, and embedded by Reader and Writer.
type Base interface {
	//zoo:cache deps="item:<id>:"
	EmptySegment(ctx context.Context, id int64) (string, error)

	//zoo:cache deps="item:<idd>"
	UnknownParam(ctx context.Context, id int64) (string, error)

	//zoo:invalidate deps="item:<id"
	Unterminated(ctx context.Context, id int64) error
}

// Reader embeds Base beside a method of its own.
type Reader interface {
	Base

	//zoo:cache deps="item:<id>"
	Get(ctx context.Context, id int64) (string, error)
}

// Writer embeds Base too.
type Writer interface {
	Base

	//zoo:invalidate deps="item:<id>"
	Put(ctx context.Context, id int64) error
}
