// Package generator turns annotated repository interfaces into typed caching
// decorators.
//
// It works in three visible stages:
//
//   - load.go: [load] reads packages with golang.org/x/tools/go/packages
//     and reports what does not compile, positioned like every other
//     problem: an error inside the interfaces zoogen decorates, a warning
//     ([Config.Warn]) elsewhere, nothing for the names zoogen is about to
//     write (the package may wire the decorator before it exists).
//   - scan.go, check.go, imports.go: the scanner reads each file of a
//     package directory once (which files zoogen generated, which names the
//     package declares); [parse] collects the //zoo: annotations
//     (annotation.go) and checks every interface and method into the model
//     of package generator/internal/model (Package, Interface, Method,
//     Param, Dep, Type), converting types and planning keys in types.go,
//     and names the imports of the generated code.
//   - emit.go: [emitter] writes one file per source file with
//     github.com/dave/jennifer.
//
// Two helpers serve every stage: the namer (names.go) allocates every
// identifier the generator invents, with one suffix rule, and the reporter
// (errors.go) collects every problem of a run once, with its position.
//
// [Generate] returns the files it would write ([Result]) and writes nothing;
// [Write] writes the ones whose bytes changed and [Check] lists the stale
// ones. [Graph] prints which cached reads each write expires (graph.go).
// The zoogen command is a thin shell around them.
//
// The checker also walks every cached result type as the codec of the
// shared stores encodes it (codec.go): what LMDB or Redis would not keep
// (an unexported field, a time.Time's location) is a warning, what they
// cannot hold at all (a channel, a function) an error.
//
// # Annotations
//
//	//zoo:cache deps="org:<oid>:store:<sid>:product:<pid>" ttl=10m
//	//zoo:cache deps="product:<q.ProductID>:reviews,featured" errors=ErrNotFound
//	//zoo:invalidate deps="org:<p.OrgID>:store:<p.StoreID>:product:<p.ID>"
//
// deps is a comma-separated list of tag templates; a segment is either text
// or one <param>, <param.Field.Sub> or <param.Method> reference. ttl is a Go
// duration. errors lists sentinel errors that are cached like values, with
// their message. copy=true gives every caller a copy of a cached value.
// refresh (a duration shorter than ttl) reloads an entry older than it in
// the background while serving it; stale-if-error (a duration) answers a
// failed load with an entry expired less than that ago (refresh.go). The
// last result is the error result when its type implements error and can
// be nil (error, type Error error, *AppError): never cached otherwise, and
// a write invalidates only when it is nil.
package generator
