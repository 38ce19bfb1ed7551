package generator

import (
	"fmt"
	"go/types"
	"strings"

	"github.com/zoogen/zoogen/generator/internal/model"
)

var errorInterface = types.Universe.Lookup("error").Type().Underlying().(*types.Interface)

// isError reports whether t is the predeclared error type.
func isError(t types.Type) bool {
	return types.Identical(t, types.Universe.Lookup("error").Type())
}

// isContext reports whether t is context.Context.
func isContext(t types.Type) bool { return isNamed(t, "context", "Context") }

// isNamed reports whether t is the named type pkg.name.
func isNamed(t types.Type, pkg, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}

// typ converts a go/types type into the model's.
func (p *parser) typ(t types.Type) model.Type {
	switch t := t.(type) {
	case *types.Basic:
		if t.Kind() == types.UnsafePointer {
			return &model.Named{Pkg: "unsafe", Name: "Pointer"}
		}
		return &model.Basic{Name: t.Name()}
	case *types.Alias:
		obj := t.Obj()
		if obj.Pkg() == nil {
			return &model.Basic{Name: obj.Name()} // any
		}
		p.pkgNames[obj.Pkg().Path()] = obj.Pkg().Name()
		return &model.Named{Pkg: obj.Pkg().Path(), Name: obj.Name(), Args: p.typeList(t.TypeArgs())}
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() == nil {
			return &model.Basic{Name: obj.Name()} // error, comparable
		}
		p.pkgNames[obj.Pkg().Path()] = obj.Pkg().Name()
		return &model.Named{Pkg: obj.Pkg().Path(), Name: obj.Name(), Args: p.typeList(t.TypeArgs())}
	case *types.TypeParam:
		return &model.TypeParamRef{Name: t.Obj().Name()}
	case *types.Pointer:
		return &model.Pointer{Elem: p.typ(t.Elem())}
	case *types.Slice:
		return &model.Slice{Elem: p.typ(t.Elem())}
	case *types.Array:
		return &model.Array{Len: t.Len(), Elem: p.typ(t.Elem())}
	case *types.Map:
		return &model.Map{Key: p.typ(t.Key()), Elem: p.typ(t.Elem())}
	case *types.Chan:
		return &model.Chan{Dir: [...]model.ChanDir{types.SendRecv: model.Both, types.SendOnly: model.Send, types.RecvOnly: model.Recv}[t.Dir()], Elem: p.typ(t.Elem())}
	case *types.Signature:
		return p.sig(t)
	case *types.Struct:
		s := &model.Struct{}
		for i := range t.NumFields() {
			f := t.Field(i)
			s.Fields = append(s.Fields, &model.Field{Name: f.Name(), Type: p.typ(f.Type()), Embedded: f.Embedded(), Tag: t.Tag(i)})
		}
		return s
	case *types.Interface:
		lit := &model.InterfaceLit{}
		for i := range t.NumEmbeddeds() {
			lit.Embeds = append(lit.Embeds, p.typ(t.EmbeddedType(i)))
		}
		for i := range t.NumExplicitMethods() {
			fn := t.ExplicitMethod(i)
			lit.Methods = append(lit.Methods, &model.MethodSig{Name: fn.Name(), Sig: p.sig(fn.Type().(*types.Signature))})
		}
		if len(lit.Embeds) == 0 && len(lit.Methods) == 0 {
			return &model.Basic{Name: "any"}
		}
		return lit
	case *types.Union:
		u := &model.Union{}
		for i := range t.Len() {
			term := t.Term(i)
			u.Terms = append(u.Terms, &model.Term{Tilde: term.Tilde(), Type: p.typ(term.Type())})
		}
		return u
	}
	panic(fmt.Sprintf("zoogen: unexpected type %T %v", t, t))
}

// typeList converts a list of type arguments.
func (p *parser) typeList(l *types.TypeList) []model.Type {
	var out []model.Type
	for i := range l.Len() {
		out = append(out, p.typ(l.At(i)))
	}
	return out
}

// sig converts a signature into the model's function type.
func (p *parser) sig(s *types.Signature) *model.Func {
	f := &model.Func{Variadic: s.Variadic()}
	for i := range s.Params().Len() {
		f.Params = append(f.Params, p.typ(s.Params().At(i).Type()))
	}
	for i := range s.Results().Len() {
		f.Results = append(f.Results, p.typ(s.Results().At(i).Type()))
	}
	return f
}

// basicConv returns the name of the basic type a value of type t converts
// to for a Key or Tag function, and whether one is needed (t is a named
// type or alias of it).
func basicConv(t types.Type, want string) string {
	if b, ok := types.Unalias(t).(*types.Basic); ok && b.Name() == want {
		return ""
	}
	return want
}

// keyPlan decides how an argument of type t is written into a key. path
// holds the named types being expanded, to stop at recursive types.
func (p *parser) keyPlan(pkg *types.Package, t types.Type, path []*types.Named) (*model.Key, error) {
	ts := typeString(t, pkg)
	if isNamed(t, "time", "Time") {
		return &model.Key{Kind: model.KeyTime}, nil
	}
	if tp, ok := t.(*types.TypeParam); ok {
		_ = tp
		return &model.Key{Kind: model.KeyAny}, nil
	}
	named, _ := types.Unalias(t).(*types.Named)
	if named != nil {
		for _, n := range path {
			if n == named {
				return &model.Key{Kind: model.KeyAny}, nil // recursive: reflection walks it
			}
		}
		path = append(path, named)
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsInteger != 0 && u.Info()&types.IsUnsigned != 0:
			return &model.Key{Kind: model.KeyUint, Basic: basicConv(t, "uint64")}, nil
		case u.Info()&types.IsInteger != 0:
			return &model.Key{Kind: model.KeyInt, Basic: basicConv(t, "int64")}, nil
		case u.Info()&types.IsFloat != 0:
			return &model.Key{Kind: model.KeyFloat, Basic: basicConv(t, "float64")}, nil
		case u.Info()&types.IsBoolean != 0:
			return &model.Key{Kind: model.KeyBool, Basic: basicConv(t, "bool")}, nil
		case u.Info()&types.IsString != 0:
			return &model.Key{Kind: model.KeyString, Basic: basicConv(t, "string")}, nil
		case u.Info()&types.IsComplex != 0:
			return &model.Key{Kind: model.KeyAny}, nil
		}
		return nil, fmt.Errorf("%s has no value to key by", ts)
	case *types.Pointer:
		elem, err := p.keyPlan(pkg, u.Elem(), path)
		if err != nil {
			return nil, err
		}
		return &model.Key{Kind: model.KeyPtr, Elem: elem}, nil
	case *types.Slice:
		if b, ok := u.Elem().Underlying().(*types.Basic); ok && b.Kind() == types.Byte {
			conv := "[]byte"
			if _, isSlice := types.Unalias(t).(*types.Slice); isSlice && types.Identical(u.Elem(), types.Typ[types.Byte]) {
				conv = ""
			}
			return &model.Key{Kind: model.KeyBytes, Basic: conv}, nil
		}
		elem, err := p.keyPlan(pkg, u.Elem(), path)
		if err != nil {
			return nil, fmt.Errorf("element of %s: %w", ts, err)
		}
		return &model.Key{Kind: model.KeySlice, Elem: elem}, nil
	case *types.Array:
		elem, err := p.keyPlan(pkg, u.Elem(), path)
		if err != nil {
			return nil, fmt.Errorf("element of %s: %w", ts, err)
		}
		return &model.Key{Kind: model.KeySlice, Elem: elem}, nil
	case *types.Map:
		if _, err := p.keyPlan(pkg, u.Key(), path); err != nil {
			return nil, fmt.Errorf("key of %s: %w", ts, err)
		}
		if _, err := p.keyPlan(pkg, u.Elem(), path); err != nil {
			return nil, fmt.Errorf("value of %s: %w", ts, err)
		}
		return &model.Key{Kind: model.KeyAny}, nil // reflection sorts the entries
	case *types.Struct:
		accessible := true
		for i := range u.NumFields() {
			if f := u.Field(i); !f.Exported() && f.Pkg() != pkg {
				accessible = false
			}
		}
		if !accessible {
			switch {
			case hasMethod(t, "MarshalBinary"):
				return &model.Key{Kind: model.KeyBinary}, nil
			case hasMethod(t, "MarshalText"):
				return &model.Key{Kind: model.KeyText}, nil
			}
			return &model.Key{Kind: model.KeyAny}, nil
		}
		k := &model.Key{Kind: model.KeyStruct}
		for i := range u.NumFields() {
			f := u.Field(i)
			if f.Name() == "_" {
				continue
			}
			fk, err := p.keyPlan(pkg, f.Type(), path)
			if err != nil {
				return nil, fmt.Errorf("field %s of %s: %w", f.Name(), ts, err)
			}
			k.Fields = append(k.Fields, &model.KeyField{Name: f.Name(), Key: fk})
		}
		return k, nil
	case *types.Interface:
		if u.Empty() {
			return &model.Key{Kind: model.KeyAny}, nil
		}
		return nil, fmt.Errorf("%s is an interface with methods; a key needs a value (use a concrete type or any)", ts)
	case *types.Chan:
		return nil, fmt.Errorf("%s is a channel; a key needs a value (scalars, strings, structs, slices, maps, pointers)", ts)
	case *types.Signature:
		return nil, fmt.Errorf("%s is a function; a key needs a value (scalars, strings, structs, slices, maps, pointers)", ts)
	}
	return nil, fmt.Errorf("%s cannot be keyed", ts)
}

// hasMethod reports whether values of type t have a method called name with
// no parameters.
func hasMethod(t types.Type, name string) bool {
	ms := types.NewMethodSet(t)
	for i := range ms.Len() {
		fn := ms.At(i).Obj().(*types.Func)
		if fn.Name() == name && fn.Type().(*types.Signature).Params().Len() == 0 {
			return true
		}
	}
	return false
}

// refScope is what the references of one annotation can name: the
// method's parameters and, in deps, its results.
type refScope struct {
	params  map[string]*types.Var // named parameters, the context included
	have    []string              // their names, for messages
	unnamed []unnamedParam        // parameters other than the context without a name
	// results maps "result" and the names of named results to the index
	// of the result in the model's Results; types holds their types.
	results     map[string]int
	resultTypes []types.Type
	// clash is set when "result" names a result other than the first:
	// the message that says so.
	clash     string
	errResult string // the error result's name, if it has one
	// each is the batch parameter of a batch read (each=): in deps it
	// stands for one element, and results cannot be named.
	each string
}

// addResult adds the next non-error result, called name ("" when unnamed),
// to the scope: the first is <result>, a named one is also <name>.
func (s *refScope) addResult(name string, t types.Type) {
	i := len(s.resultTypes)
	s.resultTypes = append(s.resultTypes, t)
	if i == 0 {
		if _, named := s.results["result"]; !named {
			s.results["result"] = 0
		}
	}
	if name == "" || name == "_" {
		return
	}
	if name == "result" && i > 0 {
		s.clash = fmt.Sprintf("<result> is ambiguous: it names the first result and result %d, named result; rename that result", i+1)
	}
	s.results[name] = i
}

// unnamedParam is a parameter the interface leaves unnamed: generated code
// names it, references cannot.
type unnamedParam struct {
	index int    // 1-based, as messages count
	name  string // the name generated code gives it
	typ   string
}

// missing explains that no parameter is called name, listing those there
// are and what to do about unnamed ones.
func (s *refScope) missing(name string) string {
	msg := "no parameter named " + name
	if len(s.have) > 0 {
		msg += " (have: " + strings.Join(s.have, ", ") + ")"
	}
	switch len(s.unnamed) {
	case 0:
	case 1:
		u := s.unnamed[0]
		msg += fmt.Sprintf("; parameter %d (%s) is unnamed: name it in the interface (%s %s) to use it", u.index, u.typ, name, u.typ)
	default:
		var list []string
		for _, u := range s.unnamed {
			list = append(list, fmt.Sprintf("%d (%s)", u.index, u.typ))
		}
		msg += fmt.Sprintf("; parameters %s are unnamed: name the one you mean in the interface to use it", strings.Join(list, ", "))
	}
	return msg
}

// refStep is one selection on the path of a reference.
type refStep struct {
	name     string
	call     bool       // a method, called with no arguments
	implicit bool       // an embedded field the selection goes through
	from     types.Type // the type of the value it selects from
}

// refValue is what a reference resolves to.
type refValue struct {
	name   string // the parameter or result
	result int    // 1 + the index of the result; 0 for a parameter
	steps  []refStep
	typ    types.Type // of the value reached
	expr   string     // as written: q.ProductID
}

// resolve resolves the reference of raw against scope, results allowed
// when withResults is set; problems are reported against option o.
func (p *parser) resolve(pkg *types.Package, raw *rawSegment, scope *refScope, withResults bool, o *option, method string) *refValue {
	name := raw.param[0]
	r := &refValue{name: name, expr: name}
	idx, isResult := scope.results[name]
	v, isParam := scope.params[name]
	switch {
	case isResult && isParam:
		p.errorf(raw.pos, method, "%s %q: <%s> is ambiguous: it names parameter %s and the method's first result; rename the parameter", o.name, o.value, name, name)
		return nil
	case isResult && withResults && scope.each != "":
		p.errorf(raw.pos, method, "%s %q: <%s> is a result; with each=, the tags of an element are known before the load: name the element (<%s>) or another parameter", o.name, o.value, name, scope.each)
		return nil
	case isResult && !withResults:
		p.errorf(raw.pos, method, "%s %q: <%s> is a result; the key is made before the call, from parameters only (results can name tags in deps)", o.name, o.value, name)
		return nil
	case isResult && name == "result" && scope.clash != "":
		p.errorf(raw.pos, method, "%s %q: %s", o.name, o.value, scope.clash)
		return nil
	case isResult:
		r.result = idx + 1
		r.typ = scope.resultTypes[idx]
	case name == scope.errResult:
		p.errorf(raw.pos, method, "%s %q: <%s> is the error result; name a value", o.name, o.value, name)
		return nil
	case !isParam:
		for _, u := range scope.unnamed {
			if u.name == name {
				p.errorf(raw.pos, method, "%s %q: parameter %d (%s) is unnamed: name it in the interface (id %s) to use it", o.name, o.value, u.index, u.typ, u.typ)
				return nil
			}
		}
		msg := scope.missing(name)
		if name == "result" && withResults {
			msg += "; the method returns no result other than an error"
		}
		p.errorf(raw.pos, method, "%s %q: %s", o.name, o.value, msg)
		return nil
	case isContext(v.Type()):
		p.errorf(raw.pos, method, "%s %q: <%s> is the context; name a parameter that holds data", o.name, o.value, name)
		return nil
	default:
		r.typ = v.Type()
	}
	for _, sel := range raw.param[1:] {
		obj, index, _ := types.LookupFieldOrMethod(r.typ, true, pkg, sel)
		if obj != nil {
			r.implicitSteps(index[:len(index)-1])
		}
		switch obj := obj.(type) {
		case *types.Var:
			r.steps = append(r.steps, refStep{name: sel, from: r.typ})
			r.typ = obj.Type()
		case *types.Func:
			sig := obj.Type().(*types.Signature)
			if sig.Params().Len() != 0 || sig.Results().Len() != 1 {
				p.errorf(raw.pos, method, "%s %q: method %s.%s must take no arguments and return one value to name a value", o.name, o.value, r.expr, sel)
				return nil
			}
			r.steps = append(r.steps, refStep{name: sel, call: true, from: r.typ})
			r.typ = sig.Results().At(0).Type()
		default:
			p.errorf(raw.pos, method, "%s %q: %s (of type %s) has no field or method %s%s", o.name, o.value, r.expr, typeString(r.typ, pkg),
				sel, fieldList(r.typ, pkg))
			return nil
		}
		r.expr += "." + sel
	}
	return r
}

// implicitSteps appends the embedded fields that a promoted selection goes
// through, given the index LookupFieldOrMethod returned without its last
// entry.
func (r *refValue) implicitSteps(index []int) {
	for _, i := range index {
		s, _ := derefStruct(r.typ)
		f := s.Field(i)
		r.steps = append(r.steps, refStep{name: f.Name(), implicit: true, from: r.typ})
		r.typ = f.Type()
	}
}

// segment resolves one segment of a tag template.
func (p *parser) segment(pkg *types.Package, raw *rawSegment, scope *refScope, o *option, method string) *model.Segment {
	if raw.param == nil {
		return &model.Segment{Text: raw.text}
	}
	r := p.resolve(pkg, raw, scope, true, o, method)
	if r == nil {
		return nil
	}
	seg := &model.Segment{Param: r.name, Result: r.result}
	for _, st := range r.steps {
		if !st.implicit {
			seg.Path = append(seg.Path, st.name)
			seg.Calls = append(seg.Calls, st.call)
		}
	}
	conv, err := tagConv(r.typ, pkg)
	if err != nil {
		p.errorf(raw.pos, method, "%s %q: <%s> %v", o.name, o.value, r.expr, err)
		return nil
	}
	seg.Conv = conv
	return seg
}

// keyRef resolves one reference of a key option into the plan that writes
// the value into the key: a nil pointer or interface on the path is keyed
// as nil, never dereferenced.
func (p *parser) keyRef(pkg *types.Package, raw *rawSegment, scope *refScope, o *option, method string) *model.KeyRef {
	r := p.resolve(pkg, raw, scope, false, o, method)
	if r == nil {
		return nil
	}
	plan, err := p.keyPlan(pkg, r.typ, nil)
	if err != nil {
		p.errorf(raw.pos, method, "%s %q: cannot key by <%s>: %v", o.name, o.value, r.expr, err)
		return nil
	}
	for i := len(r.steps) - 1; i >= 0; i-- {
		st := r.steps[i]
		plan = &model.Key{Kind: model.KeyStruct, Fields: []*model.KeyField{{Name: st.name, Key: plan, Call: st.call}}}
		if _, isTypeParam := st.from.(*types.TypeParam); isTypeParam {
			continue // not comparable with nil
		}
		switch st.from.Underlying().(type) {
		case *types.Pointer, *types.Interface:
			plan = &model.Key{Kind: model.KeyPtr, Elem: plan}
		}
	}
	return &model.KeyRef{Ref: r.expr, Param: r.name, Key: plan}
}

// fieldList lists what can follow t in a template, for error messages.
func fieldList(t types.Type, pkg *types.Package) string {
	var names []string
	if s, ok := derefStruct(t); ok {
		for i := range s.NumFields() {
			if f := s.Field(i); f.Exported() || f.Pkg() == pkg {
				names = append(names, f.Name())
			}
		}
	}
	ms := types.NewMethodSet(types.NewPointer(types.Unalias(t)))
	if _, isPtr := t.Underlying().(*types.Pointer); isPtr {
		ms = types.NewMethodSet(t)
	}
	for i := range ms.Len() {
		fn := ms.At(i).Obj()
		if sig := fn.Type().(*types.Signature); sig.Params().Len() == 0 && sig.Results().Len() == 1 && (fn.Exported() || fn.Pkg() == pkg) {
			names = append(names, fn.Name()+"()")
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " (have: " + strings.Join(names, ", ") + ")"
}

// derefStruct returns the struct type under t or under what t points to.
func derefStruct(t types.Type) (*types.Struct, bool) {
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	s, ok := t.Underlying().(*types.Struct)
	return s, ok
}

// tagConv checks that a value of type t can name a tag segment and returns
// the conversion it needs.
func tagConv(t types.Type, pkg *types.Package) (string, error) {
	if isNamed(t, "time", "Time") || hasMethod(t, "String") || hasMethod(t, "MarshalText") {
		return "", nil
	}
	if b, ok := t.Underlying().(*types.Basic); ok {
		switch {
		case b.Info()&types.IsInteger != 0 && b.Info()&types.IsUnsigned != 0:
			return basicConv(t, "uint64"), nil
		case b.Info()&types.IsInteger != 0:
			return basicConv(t, "int64"), nil
		case b.Info()&types.IsFloat != 0:
			return basicConv(t, "float64"), nil
		case b.Info()&types.IsBoolean != 0:
			return basicConv(t, "bool"), nil
		case b.Info()&types.IsString != 0:
			return basicConv(t, "string"), nil
		}
	}
	if _, ok := t.(*types.TypeParam); ok {
		return "", nil // formatted at run time
	}
	return "", fmt.Errorf("is a %s; a tag segment needs a string, number, bool, time.Time, or a type with a String or MarshalText method", typeString(t, pkg))
}

// typeString prints t for messages: types of pkg unqualified, others by
// package name.
func typeString(t types.Type, pkg *types.Package) string {
	return types.TypeString(t, func(other *types.Package) string {
		if other == pkg {
			return ""
		}
		return other.Name()
	})
}
