package generator

import (
	"go/types"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// each resolves the each= option of a batch read into m.Each, keys the
// other parameters, and makes <param> stand for one element in the deps
// that follow. It reports whether the option, the key= that goes with it
// and the method's shape are valid.
//
// With each=, key= names the field of the result's values that equals an
// element (key=ID), written without brackets: a batch read is keyed by its
// other arguments and the element, so key= has no list of references to
// give, and a reference there (key="<id>") is an error that says so.
func (p *parser) each(pkg *packages.Package, m *model.Method, ann *annotation, o *option, scope *refScope, vars []*types.Var) bool {
	name := o.value
	idx := -1
	for i, param := range m.Params {
		if param.Name == name {
			idx = i
		}
	}
	v, named := scope.params[name]
	switch {
	case idx < 0 && named && isContext(v.Type()):
		p.errorf(o.valuePos, m.Name, "each=%s: %s is the context; each= names the slice parameter that holds the batch (ids []int64)", name, name)
		return false
	case idx < 0:
		p.errorf(o.valuePos, m.Name, "each=%s: %s", name, scope.missing(name))
		return false
	}
	pt := vars[idx].Type()
	slice, isSlice := pt.Underlying().(*types.Slice)
	if !isSlice {
		p.errorf(o.valuePos, m.Name, "each=%s: %s is %s, not a slice; each= names the slice parameter that holds the batch (ids []int64)",
			name, name, typeString(pt, pkg.Types))
		return false
	}
	elem := slice.Elem()
	// In deps, <name> is one element of the batch: set before the checks
	// below, so that a bad batch is not also reported as a bad tag.
	scope.params[name] = types.NewVar(v.Pos(), v.Pkg(), name, elem)
	scope.each = name
	ok := true
	if !types.Comparable(elem) {
		p.errorf(o.valuePos, m.Name, "each=%s: its elements, of type %s, are not comparable; a batch needs elements that can key a map",
			name, typeString(elem, pkg.Types))
		ok = false
	}
	elemKey, err := p.keyPlan(pkg.Types, elem, nil)
	if err != nil {
		p.errorf(o.valuePos, m.Name, "each=%s: cannot key by an element: %v", name, err)
		ok = false
	}
	for i, param := range m.Params {
		if i == idx {
			continue
		}
		k, err := p.keyPlan(pkg.Types, vars[i].Type(), nil)
		if err != nil {
			p.errorf(ann.pos, m.Name, "cannot cache by argument %s (parameter %d): %v", param.Name, i+1, err)
			ok = false
		}
		param.Key = k
	}
	if e := ann.option("errors"); e != nil {
		p.errorf(e.pos, m.Name, "errors= with each=: a batch read caches the elements the repository returns, not errors")
		ok = false
	}
	for _, opt := range []string{"refresh", "stale-if-error"} {
		if e := ann.option(opt); e != nil {
			p.errorf(e.pos, m.Name, "%s= with each=: a batch read does not refresh or serve expired elements yet; cache the single read with %s= instead", opt, opt)
			ok = false
		}
	}
	if len(scope.resultTypes) != 1 {
		p.errorf(o.pos, m.Name, "each=%s: a batch read returns one value, a map[%s]V or a []V, and optionally an error (it returns %d values)",
			name, typeString(elem, pkg.Types), len(scope.resultTypes))
		return false
	}
	each := &model.Each{Param: name, Elem: p.typ(elem), Key: elemKey}
	result := scope.resultTypes[0]
	key := ann.option("key")
	switch r := result.Underlying().(type) {
	case *types.Map:
		if !types.Identical(r.Key(), elem) {
			p.errorf(o.pos, m.Name, "each=%s: the result %s is keyed by %s, the elements of %s are %s; they must be the same type",
				name, typeString(result, pkg.Types), typeString(r.Key(), pkg.Types), name, typeString(elem, pkg.Types))
			ok = false
		}
		if key != nil {
			p.errorf(key.pos, m.Name, "key=%s with each=: the result %s is a map, keyed by the elements already; key= names the field of a slice result's values that equals an element",
				key.value, typeString(result, pkg.Types))
			ok = false
		}
		each.Value = p.typ(r.Elem())
	case *types.Slice:
		each.Value = p.typ(r.Elem())
		if key == nil {
			p.errorf(o.pos, m.Name, "each=%s: the result %s is a slice: name the field of %s that equals an element with key=<Field> (key=ID)",
				name, typeString(result, pkg.Types), typeString(r.Elem(), pkg.Types))
			ok = false
			break
		}
		if !p.eachField(pkg, m, each, key, r.Elem(), elem) {
			ok = false
		}
	default:
		p.errorf(o.pos, m.Name, "each=%s: a batch read returns a map[%s]V keyed by the elements, or a []V with key=<Field>; it returns %s",
			name, typeString(elem, pkg.Types), typeString(result, pkg.Types))
		ok = false
	}
	if !ok {
		return false
	}
	m.Each = each
	return true
}

// eachField resolves key=<Field> of a batch read with a slice result: a
// path of fields or methods of the values (of type value) that reads an
// element, of type elem.
func (p *parser) eachField(pkg *packages.Package, m *model.Method, each *model.Each, o *option, value, elem types.Type) bool {
	if strings.ContainsAny(o.value, "<>,:") {
		p.errorf(o.valuePos, m.Name, "key %q with each=: name the field of %s that equals an element, without brackets (key=ID); each element's key is the other arguments and the element",
			o.value, typeString(value, pkg.Types))
		return false
	}
	path := parseRef(o.value)
	if path == nil {
		p.errorf(o.valuePos, m.Name, "key %q with each=: not a field name (want key=ID or key=Key.ID)", o.value)
		return false
	}
	switch value.Underlying().(type) {
	case *types.Pointer, *types.Interface, *types.Map, *types.Slice:
		each.Nillable = true
	}
	t := value
	expr := typeString(value, pkg.Types)
	for i, sel := range path {
		obj, index, _ := types.LookupFieldOrMethod(t, true, pkg.Types, sel)
		if obj != nil && len(index) > 1 {
			// A promoted field: the selection goes through an embedded
			// pointer that may be nil. Name the path in full.
			if s, isStruct := derefStruct(t); isStruct {
				if _, isPtr := s.Field(index[0]).Type().Underlying().(*types.Pointer); isPtr {
					p.errorf(o.valuePos, m.Name, "key %q with each=: %s is promoted through the embedded pointer %s, which may be nil; name a field of %s itself",
						o.value, sel, s.Field(index[0]).Name(), expr)
					return false
				}
			}
		}
		switch obj := obj.(type) {
		case *types.Var:
			if _, isPtr := t.Underlying().(*types.Pointer); isPtr && i > 0 {
				p.errorf(o.valuePos, m.Name, "key %q with each=: %s is reached through a pointer, which may be nil; name a field of %s itself",
					o.value, sel, typeString(value, pkg.Types))
				return false
			}
			each.Field = append(each.Field, sel)
			each.Calls = append(each.Calls, false)
			t = obj.Type()
		case *types.Func:
			sig := obj.Type().(*types.Signature)
			if sig.Params().Len() != 0 || sig.Results().Len() != 1 {
				p.errorf(o.valuePos, m.Name, "key %q with each=: method %s.%s must take no arguments and return one value", o.value, expr, sel)
				return false
			}
			each.Field = append(each.Field, sel)
			each.Calls = append(each.Calls, true)
			t = sig.Results().At(0).Type()
		default:
			p.errorf(o.valuePos, m.Name, "key %q with each=: %s has no field or method %s%s", o.value, expr, sel, fieldList(t, pkg.Types))
			return false
		}
		expr += "." + sel
	}
	if !types.Identical(t, elem) {
		p.errorf(o.valuePos, m.Name, "key %q with each=: %s is %s, the elements are %s; they must be the same type",
			o.value, expr, typeString(t, pkg.Types), typeString(elem, pkg.Types))
		return false
	}
	return true
}
