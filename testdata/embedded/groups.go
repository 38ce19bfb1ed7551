package embedded

import "context"

// Groups is a second annotated interface, in a second file.
type Groups interface {
	//zoo:cache deps="group:<name>"
	Members(ctx context.Context, name string) ([]User, error)
}

// Plain has no annotation: no decorator is generated for it.
type Plain interface {
	Get(ctx context.Context) error
}
