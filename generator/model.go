package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
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
	// ReturnsError is set when the last result, not listed in Results, is
	// an error.
	ReturnsError bool          `json:",omitempty"`
	Deps         []*Dep        `json:",omitempty"`
	TTL          time.Duration `json:",omitempty"`
	// CacheErrors are the sentinel errors cached like values.
	CacheErrors []*Ref `json:",omitempty"`
	// Holder names the generated struct that holds the results in the
	// cache when there are several or errors are cached; "" when the one
	// result is cached as it is.
	Holder string `json:",omitempty"`
	Pos    Pos
}

// Param is a parameter other than the context.
type Param struct {
	Name string // never empty or "_": unnamed parameters get a generated name
	Type Type
	Key  *Key `json:",omitempty"` // how a cached method keys it
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
}

// IsParam reports whether s refers to a parameter rather than being text.
func (s *Segment) IsParam() bool { return s.Param != "" }

// Ref names a package-level identifier, such as a sentinel error.
type Ref struct {
	Pkg  string // import path
	Name string
}

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
	KeyStruct                // each field
	KeyBinary                // zoo.KeyBinary(k, x): MarshalBinary
	KeyText                  // zoo.KeyText(k, x): MarshalText
	KeyAny                   // zoo.KeyAny(k, x): reflection
)

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
}

// Pos is a position in a source file.
type Pos struct {
	File string // relative to the working directory when possible
	Line int
	Col  int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// A Type is a Go type as the generated code spells it.
type Type interface {
	fmt.Stringer
	isType()
}

type (
	// Basic is a predeclared type: int, string, error, any, ...
	Basic struct{ Name string }
	// Named is a declared type, with its type arguments.
	Named struct {
		Pkg  string // import path; "" for the universe
		Name string
		Args []Type
	}
	// TypeParamRef is a use of a type parameter.
	TypeParamRef struct{ Name string }
	// Pointer is *Elem.
	Pointer struct{ Elem Type }
	// Slice is []Elem.
	Slice struct{ Elem Type }
	// Array is [Len]Elem.
	Array struct {
		Len  int64
		Elem Type
	}
	// Map is map[Key]Elem.
	Map struct{ Key, Elem Type }
	// Chan is a channel type.
	Chan struct {
		Dir  ChanDir
		Elem Type
	}
	// Func is a function type.
	Func struct {
		Params, Results []Type
		Variadic        bool
	}
	// Struct is a struct type literal.
	Struct struct{ Fields []*Field }
	// InterfaceLit is an interface type literal: methods and embedded
	// types (constraints included).
	InterfaceLit struct {
		Methods []*MethodSig
		Embeds  []Type
	}
	// Union is a constraint union such as ~int | ~string.
	Union struct{ Terms []*Term }
)

// ChanDir is the direction of a channel type.
type ChanDir int

const (
	Both ChanDir = iota
	Send
	Recv
)

// Field is a field of a struct type literal.
type Field struct {
	Name     string // "" when embedded
	Type     Type
	Embedded bool
	Tag      string
}

// MethodSig is a method of an interface type literal.
type MethodSig struct {
	Name string
	Sig  *Func
}

// Term is a term of a union: ~Type or Type.
type Term struct {
	Tilde bool
	Type  Type
}

// MarshalText methods print types as Go syntax in -debug-model.
func (t *Basic) MarshalText() ([]byte, error)        { return []byte(t.String()), nil }
func (t *Named) MarshalText() ([]byte, error)        { return []byte(t.String()), nil }
func (t *TypeParamRef) MarshalText() ([]byte, error) { return []byte(t.String()), nil }
func (t *Pointer) MarshalText() ([]byte, error)      { return []byte(t.String()), nil }
func (t *Slice) MarshalText() ([]byte, error)        { return []byte(t.String()), nil }
func (t *Array) MarshalText() ([]byte, error)        { return []byte(t.String()), nil }
func (t *Map) MarshalText() ([]byte, error)          { return []byte(t.String()), nil }
func (t *Chan) MarshalText() ([]byte, error)         { return []byte(t.String()), nil }
func (t *Func) MarshalText() ([]byte, error)         { return []byte(t.String()), nil }
func (t *Struct) MarshalText() ([]byte, error)       { return []byte(t.String()), nil }
func (t *InterfaceLit) MarshalText() ([]byte, error) { return []byte(t.String()), nil }
func (t *Union) MarshalText() ([]byte, error)        { return []byte(t.String()), nil }

func (*Basic) isType()        {}
func (*Named) isType()        {}
func (*TypeParamRef) isType() {}
func (*Pointer) isType()      {}
func (*Slice) isType()        {}
func (*Array) isType()        {}
func (*Map) isType()          {}
func (*Chan) isType()         {}
func (*Func) isType()         {}
func (*Struct) isType()       {}
func (*InterfaceLit) isType() {}
func (*Union) isType()        {}

func (t *Basic) String() string        { return t.Name }
func (t *TypeParamRef) String() string { return t.Name }
func (t *Pointer) String() string      { return "*" + t.Elem.String() }
func (t *Slice) String() string        { return "[]" + t.Elem.String() }
func (t *Array) String() string        { return fmt.Sprintf("[%d]%s", t.Len, t.Elem) }
func (t *Map) String() string          { return "map[" + t.Key.String() + "]" + t.Elem.String() }

func (t *Named) String() string {
	s := t.Name
	if t.Pkg != "" {
		s = t.Pkg + "." + s
	}
	if len(t.Args) > 0 {
		s += "[" + join(t.Args, ", ") + "]"
	}
	return s
}

func (t *Chan) String() string {
	switch t.Dir {
	case Send:
		return "chan<- " + t.Elem.String()
	case Recv:
		return "<-chan " + t.Elem.String()
	}
	return "chan " + t.Elem.String()
}

func (t *Func) String() string { return "func" + t.signature() }

func (t *Func) signature() string {
	params := make([]string, len(t.Params))
	for i, p := range t.Params {
		params[i] = p.String()
		if t.Variadic && i == len(t.Params)-1 {
			params[i] = "..." + p.(*Slice).Elem.String()
		}
	}
	s := "(" + strings.Join(params, ", ") + ")"
	switch len(t.Results) {
	case 0:
	case 1:
		s += " " + t.Results[0].String()
	default:
		s += " (" + join(t.Results, ", ") + ")"
	}
	return s
}

func (t *Struct) String() string {
	fields := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		fields[i] = f.Type.String()
		if !f.Embedded {
			fields[i] = f.Name + " " + fields[i]
		}
		if f.Tag != "" {
			fields[i] += " " + fmt.Sprintf("%q", f.Tag)
		}
	}
	return "struct{" + strings.Join(fields, "; ") + "}"
}

func (t *InterfaceLit) String() string {
	var elems []string
	for _, e := range t.Embeds {
		elems = append(elems, e.String())
	}
	for _, m := range t.Methods {
		elems = append(elems, m.Name+m.Sig.signature())
	}
	return "interface{" + strings.Join(elems, "; ") + "}"
}

func (t *Union) String() string {
	terms := make([]string, len(t.Terms))
	for i, term := range t.Terms {
		terms[i] = term.Type.String()
		if term.Tilde {
			terms[i] = "~" + terms[i]
		}
	}
	return strings.Join(terms, " | ")
}

func join(ts []Type, sep string) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, sep)
}

// debugModel is the model as -debug-model prints it.
func debugModel(pkgs []*Package) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // templates are full of < and >
	enc.SetIndent("", "  ")
	if err := enc.Encode(pkgs); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
