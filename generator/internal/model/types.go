package model

import (
	"fmt"
	"strings"
)

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
	Both ChanDir = iota // chan T
	Send                // chan<- T
	Recv                // <-chan T
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

// isType makes the type structs, and only them, a [Type].
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

// String methods spell types as Go syntax, packages by import path.
func (t *Basic) String() string        { return t.Name }
func (t *TypeParamRef) String() string { return t.Name }
func (t *Pointer) String() string      { return "*" + t.Elem.String() }
func (t *Slice) String() string        { return "[]" + t.Elem.String() }
func (t *Array) String() string        { return fmt.Sprintf("[%d]%s", t.Len, t.Elem) }
func (t *Map) String() string          { return "map[" + t.Key.String() + "]" + t.Elem.String() }

// String spells a named type with its import path and type arguments.
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

// String spells a channel type with its direction.
func (t *Chan) String() string {
	switch t.Dir {
	case Send:
		return "chan<- " + t.Elem.String()
	case Recv:
		return "<-chan " + t.Elem.String()
	}
	return "chan " + t.Elem.String()
}

// String spells a function type.
func (t *Func) String() string { return "func" + t.signature() }

// signature spells the parameters and results of t, as after func or a
// method name.
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

// String spells a struct type literal on one line.
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

// String spells an interface type literal on one line.
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

// String spells a union as its terms joined by |.
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

// join spells ts separated by sep.
func join(ts []Type, sep string) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, sep)
}

// Walk calls fn for t and then for every type inside it, depth first:
// type arguments, elements, keys, parameters, results, fields, embedded
// types and union terms.
func Walk(t Type, fn func(Type)) {
	fn(t)
	switch t := t.(type) {
	case *Named:
		for _, a := range t.Args {
			Walk(a, fn)
		}
	case *Pointer:
		Walk(t.Elem, fn)
	case *Slice:
		Walk(t.Elem, fn)
	case *Array:
		Walk(t.Elem, fn)
	case *Map:
		Walk(t.Key, fn)
		Walk(t.Elem, fn)
	case *Chan:
		Walk(t.Elem, fn)
	case *Func:
		for _, x := range t.Params {
			Walk(x, fn)
		}
		for _, x := range t.Results {
			Walk(x, fn)
		}
	case *Struct:
		for _, f := range t.Fields {
			Walk(f.Type, fn)
		}
	case *InterfaceLit:
		for _, e := range t.Embeds {
			Walk(e, fn)
		}
		for _, m := range t.Methods {
			Walk(m.Sig, fn)
		}
	case *Union:
		for _, term := range t.Terms {
			Walk(term.Type, fn)
		}
	}
}
