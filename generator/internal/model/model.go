// Package model is what the generator knows of the annotated interfaces of
// a run: plain structs ([Package], [Interface], [Method], [Param], [Dep],
// [Type]) with no go/ast, go/types or jennifer values inside. The checker
// builds it, every template, TTL and argument already validated; the
// emitter reads it; -debug-model prints it with [Debug].
package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Package holds what one Go package generates.
type Package struct {
	Path  string  // import path
	Name  string  // package name
	Dir   string  // directory
	Files []*File // files with annotated interfaces, in source order
	// Imports are the packages generated files may refer to, the runtime
	// included, each with a name that clashes with nothing the package
	// declares.
	Imports []*Import
}

// Import is a package generated code refers to.
type Import struct {
	Path  string
	Name  string // the name generated code uses
	Alias bool   // Name is not the package's own name
}

// File is one source file with annotated interfaces and the file generated
// for it.
type File struct {
	Source     string // path of the source file
	Output     string // path of the generated file: <source without .go>_zoo.go
	Interfaces []*Interface
}

// Interface is an annotated interface and the names of its decorator.
type Interface struct {
	Name        string
	TypeParams  []*TypeParam
	Methods     []*Method // explicit methods in source order, then embedded ones
	Decorator   string    // Cached<Name>
	Constructor string    // NewCached<Name>
	Pos         Pos
}

// TypeParam is a type parameter of a generic interface.
type TypeParam struct {
	Name       string
	Constraint Type
}

// Kind says what the decorator does with a method.
type Kind int

const (
	Passthrough Kind = iota // no annotation: call the inner repository
	Cache                   // //zoo:cache
	Invalidate              // //zoo:invalidate
)

// String returns the kind's name: passthrough, cache or invalidate.
func (k Kind) String() string {
	return [...]string{"passthrough", "cache", "invalidate"}[k]
}

// MarshalText prints a Kind by name in -debug-model.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Method is one method of an interface.
type Method struct {
	Name string
	Kind Kind
	// Annotation is the annotation as written, for the doc comment.
	Annotation string `json:",omitempty"`
	// Context is the name of the leading context.Context parameter, or ""
	// when the method takes none.
	Context  string `json:",omitempty"`
	Params   []*Param
	Variadic bool `json:",omitempty"` // the last parameter is variadic
	Results  []Type
	// Error is the error result, not listed in Results; nil when the
	// method has none.
	Error *ErrorResult  `json:",omitempty"`
	Deps  []*Dep        `json:",omitempty"`
	TTL   time.Duration `json:",omitempty"`
	// Copy is copy=true: every caller but the loader gets a copy of the
	// cached value.
	Copy bool `json:",omitempty"`
	// Refresh is refresh=: hits on entries older than it reload them in
	// the background. StaleIfError is stale-if-error=: a failed load
	// serves an entry expired less than it ago.
	Refresh      time.Duration `json:",omitempty"`
	StaleIfError time.Duration `json:",omitempty"`
	// CacheErrors are the sentinel errors cached like values.
	CacheErrors []*Ref `json:",omitempty"`
	// Holder names the generated struct that holds the results in the
	// cache when there are several or errors are cached; "" when the one
	// result is cached as it is.
	Holder string `json:",omitempty"`
	Pos    Pos

	// Key lists the values a key= option names; when it is set, the key is
	// built from them alone and Params carry no Key.
	Key []*KeyRef `json:",omitempty"`

	// Each is set for a batch read (each=): its elements are cached one
	// by one. The batch parameter carries no Key then.
	Each *Each `json:",omitempty"`
}

// Each describes a batch read: a method whose slice parameter Param is a
// batch of elements, each cached as its own entry, keyed by the other
// parameters and the element and tagged by Deps, in which <Param> stands
// for one element.
type Each struct {
	Param string
	Elem  Type // the element type of the batch parameter
	Key   *Key // how an element is written into its key
	Value Type // V of the result map[Elem]V or []V
	// Field is set for a slice result (key=<Field>): the selection that
	// reads the element from a value (ID, or Key.ID); Calls[i] is set when
	// Field[i] is a method.
	Field []string `json:",omitempty"`
	Calls []bool   `json:",omitempty"`
	// Nillable is set when a value of a slice result can be nil (a
	// pointer): nil values are left out.
	Nillable bool `json:",omitempty"`
}

// ErrorResult is the error result of a method: its last result, when its
// type implements error and can be nil. It is never cached unless the
// method lists the sentinel in errors=, and an invalidating method
// invalidates only when it is nil.
type ErrorResult struct {
	Type Type
	// Interface is set when Type is an interface with error's method set:
	// error itself, or a named type such as type Error error. A value of
	// type error converts to it. Otherwise (a concrete type such as
	// *AppError, or an interface with more methods) an error is asserted
	// to it.
	Interface bool
}

// Param is a parameter other than the context.
type Param struct {
	Name string // never empty or "_": unnamed parameters get a generated name
	Type Type
	Key  *Key `json:",omitempty"` // how a cached method keys it
	// SharesType is set when the next parameter was declared with this one
	// (oid, sid int64): the signature spells the type once, after the last.
	SharesType bool `json:",omitempty"`
}

// Dep is one tag template of a deps option.
type Dep struct {
	Template string
	Segments []*Segment
}

// Segment is one segment of a tag template: text, or a value reached from a
// parameter.
type Segment struct {
	Text  string   `json:",omitempty"`
	Param string   `json:",omitempty"`
	Path  []string `json:",omitempty"` // fields and methods after the parameter
	Calls []bool   `json:",omitempty"` // Calls[i]: Path[i] is a method
	// Conv converts the value to the basic type Tag formats ("int64",
	// "string"), for named types; "" passes it as it is.
	Conv string `json:",omitempty"`
	// Result is 1 + the index in Method.Results of the result the value is
	// read from, after the inner call returned; 0 for a parameter. Param
	// is then the result's name as written: "result", or a named result's.
	Result int `json:",omitempty"`
}

// IsParam reports whether s refers to a parameter or a result rather than
// being text.
func (s *Segment) IsParam() bool { return s.Param != "" }

// KeyRef is one value a key= option names: a parameter, or a value reached
// from it.
type KeyRef struct {
	Ref   string // as written, without the brackets: "account.ID"
	Param string
	// Key is the plan for the parameter: each pointer on the path keys nil
	// or KeyPtr, and each selection is a KeyStruct of the one field or
	// method the reference names.
	Key *Key
}

// Ref names a package-level identifier, such as a sentinel error.
type Ref struct {
	Pkg  string // import path
	Name string
}

// String returns the reference as import path and name: "database/sql.ErrNoRows".
func (r *Ref) String() string { return r.Pkg + "." + r.Name }

// KeyKind says how an argument is written into a cache key.
type KeyKind int

const (
	KeyInt    KeyKind = iota // zoo.KeyInt(k, int64(x))
	KeyUint                  // zoo.KeyUint(k, uint64(x))
	KeyFloat                 // zoo.KeyFloat(k, float64(x))
	KeyBool                  // zoo.KeyBool(k, bool(x))
	KeyString                // zoo.KeyString(k, string(x))
	KeyBytes                 // zoo.KeyBytes(k, []byte(x))
	KeyTime                  // zoo.KeyTime(k, x)
	KeyPtr                   // nil, or zoo.KeyPtr then *x
	KeySlice                 // length, then each element
	KeyStruct                // each field (for key=, the one field or method named)
	KeyBinary                // zoo.KeyBinary(k, x): MarshalBinary
	KeyText                  // zoo.KeyText(k, x): MarshalText
	KeyAny                   // zoo.KeyAny(k, x): reflection
)

// String returns the key kind's short name, as in -debug-model.
func (k KeyKind) String() string {
	return [...]string{"int", "uint", "float", "bool", "string", "bytes", "time",
		"ptr", "slice", "struct", "binary", "text", "any"}[k]
}

// MarshalText prints a KeyKind by name in -debug-model.
func (k KeyKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Key is the plan for writing one value into a cache key.
type Key struct {
	Kind KeyKind
	// Basic is the basic type a value of a named type is converted to
	// first, when the Key function wants it ("int64" for a type OrgID
	// int64); "" when no conversion is needed.
	Basic  string      `json:",omitempty"`
	Elem   *Key        `json:",omitempty"` // KeyPtr, KeySlice
	Fields []*KeyField `json:",omitempty"` // KeyStruct
}

// KeyField is one field of a struct key.
type KeyField struct {
	Name string
	Key  *Key
	Call bool `json:",omitempty"` // Name is a method, called with no arguments
}

// Pos is a position in a source file.
type Pos struct {
	File string // relative to the working directory when possible
	Line int
	Col  int
}

// String returns the position as file:line:col, dropping what is unknown:
// file:line without a column, file without a line.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Debug returns the model of pkgs as -debug-model prints it: indented JSON,
// types spelled as Go syntax.
func Debug(pkgs []*Package) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // templates are full of < and >
	enc.SetIndent("", "  ")
	if err := enc.Encode(pkgs); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
