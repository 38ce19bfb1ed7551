// Package generator turns annotated repository interfaces into typed caching
// decorators.
//
// It works in three visible stages. [load] reads packages with
// golang.org/x/tools/go/packages and reports what does not compile. [parse]
// reads the //zoo: annotations of every interface method and builds a plain
// model (package generator/internal/model: Package, Interface, Method,
// Param, Dep, Type) in which every template, TTL and argument has been
// checked; every problem of a run is collected, positioned at the
// annotation. [emit] writes one file per source file with
// github.com/dave/jennifer.
//
// [Generate] returns the files it would write ([Result]) and writes nothing;
// [Write] writes the ones whose bytes changed and [Check] lists the stale
// ones. The zoogen command is a thin shell around the three.
//
// # Annotations
//
//	//zoo:cache deps="org:<oid>:store:<sid>:product:<pid>" ttl=10m
//	//zoo:cache deps="product:<q.ProductID>:reviews,featured" errors=ErrNotFound
//	//zoo:invalidate deps="org:<p.OrgID>:store:<p.StoreID>:product:<p.ID>"
//
// deps is a comma-separated list of tag templates; a segment is either text
// or one <param>, <param.Field.Sub> or <param.Method> reference. ttl is a Go
// duration. errors lists sentinel errors that are cached like values.
package generator
