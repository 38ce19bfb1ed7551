// Package clash declares names generated code would like to use: zoo,
// context, time, errors, zooRepoFind. The generated code picks others.
package clash

import stdcontext "context"

var (
	zoo     = "the package's own zoo"
	context = 1
	time    = 2
)

type missing struct{}

func (missing) Error() string { return "missing" }

// ErrMissing is cached.
var ErrMissing error = missing{}

// Repo has parameters named like the decorator's locals.
type Repo interface {
	//zoo:cache deps="k:<_k>:v:<_v>:r:<_r>" ttl=1h30m errors=ErrMissing
	Find(c stdcontext.Context, _k string, _v int, _r bool, _buf []byte) (string, int, error)

	//zoo:invalidate deps="k:<_k>"
	Drop(_ctx stdcontext.Context, _k string) (_err error)
}

// Clock has parameters named like the imports generated code would take
// without them (zoo1 and context1, since the package declares zoo and
// context): the imports take other names again.
type Clock interface {
	//zoo:cache deps="at:<zoo1>" ttl=1m
	At(context1 stdcontext.Context, zoo1 string, time1 int) (string, error)
}

type zooRepoFind struct{}

var _ = zoo
var _ = context
var _ = time
