package generator

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/tools/go/packages"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// maxTTL is the longest ttl= the runtime keeps an entry for (its MaxTTL):
// expiry is kept as Unix nanoseconds.
const maxTTL = 100 * 365 * 24 * time.Hour

// parser builds the model of a run and collects its problems.
type parser struct {
	cfg      Config
	fset     *token.FileSet
	scan     *scanner // the run's file scanner, shared with load
	reporter          // the run's problems
	warnings reporter // problems that do not stop the run

	// annotations maps the position of an interface method's name to the
	// annotations in its doc comment, across every loaded package, so that
	// a method embedded from another loaded package keeps its annotation.
	annotations map[token.Pos][]*annotation
	pkgNames    map[string]string // import path → package name, of every type converted
	// funcTypes maps the position of an interface method's name to its
	// syntax, for the grouping of its parameters (oid, sid int64).
	funcTypes map[token.Pos]*ast.FuncType
}

// warnf records a problem at pos, concerning method, that does not stop
// the run.
func (p *parser) warnf(pos Pos, method, format string, args ...any) {
	p.warnings.errorf(pos, method, format, args...)
}

// parse builds the model of every package. It returns the problems that
// stop the run, and apart the warnings.
func parse(cfg Config, fset *token.FileSet, pkgs []*packages.Package, scan *scanner) ([]*model.Package, Errors, Errors) {
	p := &parser{
		cfg: cfg, fset: fset, scan: scan,
		annotations: map[token.Pos][]*annotation{},
		pkgNames:    map[string]string{},
		funcTypes:   map[token.Pos]*ast.FuncType{},
	}
	packages.Visit(pkgs, nil, func(pkg *packages.Package) {
		for _, f := range pkg.Syntax {
			if !isGeneratedFile(f) {
				p.collectAnnotations(f)
			}
		}
	})
	var out []*model.Package
	for _, pkg := range pkgs {
		if m := p.pkg(pkg); m != nil {
			out = append(out, m)
		}
	}
	return out, p.sorted(), p.warnings.sorted()
}

// pos returns the model's position of pos, its file relative to Config.Dir.
func (p *parser) pos(pos token.Pos) model.Pos {
	position := p.fset.Position(pos)
	return model.Pos{File: relPath(p.cfg.Dir, position.Filename), Line: position.Line, Col: position.Column}
}

// pkg builds the model of one package, or nil if it has nothing to
// generate.
func (p *parser) pkg(pkg *packages.Package) *model.Package {
	m := &model.Package{Path: pkg.PkgPath, Name: pkg.Name}
	if len(pkg.GoFiles) > 0 {
		m.Dir = filepath.Dir(pkg.GoFiles[0])
	}
	names := p.declaredNames(m.Dir, pkg)
	for _, f := range pkg.Syntax {
		if isGeneratedFile(f) {
			continue
		}
		file := &model.File{Source: p.fset.File(f.Pos()).Name()}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				if _, ok := ts.Type.(*ast.InterfaceType); !ok || ts.Assign.IsValid() {
					continue
				}
				if iface := p.iface(pkg, ts, names); iface != nil {
					file.Interfaces = append(file.Interfaces, iface)
				}
			}
		}
		if len(file.Interfaces) > 0 {
			file.Output = strings.TrimSuffix(file.Source, ".go") + "_zoo.go"
			m.Files = append(m.Files, file)
		}
	}
	if len(m.Files) == 0 {
		return nil
	}
	p.chooseImports(m, names)
	return m
}

// iface builds the model of one interface declaration, or nil if none of
// its methods is annotated. names holds the package-level names of the
// package; the names of holder structs are allocated from it.
func (p *parser) iface(pkg *packages.Package, ts *ast.TypeSpec, names *namer) *model.Interface {
	obj, ok := pkg.TypesInfo.Defs[ts.Name].(*types.TypeName)
	if !ok {
		return nil
	}
	named, ok := obj.Type().(*types.Named)
	if !ok {
		return nil
	}
	it, ok := named.Underlying().(*types.Interface)
	if !ok || !it.IsMethodSet() {
		return nil // a constraint: not a type a repository can have
	}
	annotated := false
	for i := range it.NumMethods() {
		if len(p.annotations[it.Method(i).Pos()]) > 0 {
			annotated = true
		}
	}
	if !annotated {
		return nil
	}
	iface := &model.Interface{
		Name:        ts.Name.Name,
		Decorator:   "Cached" + ts.Name.Name,
		Constructor: "NewCached" + ts.Name.Name,
		Pos:         p.pos(ts.Name.Pos()),
	}
	for _, name := range []string{iface.Decorator, iface.Constructor} {
		if names.isTaken(name) {
			where := ""
			if o := pkg.Types.Scope().Lookup(name); o != nil {
				where = " at " + p.pos(o.Pos()).String()
			}
			p.errorf(iface.Pos, "", "cannot generate %s for %s: the package already declares %s%s", name, iface.Name, name, where)
			return nil
		}
	}
	for i := range named.TypeParams().Len() {
		tp := named.TypeParams().At(i)
		iface.TypeParams = append(iface.TypeParams, &model.TypeParam{Name: tp.Obj().Name(), Constraint: p.typ(tp.Constraint())})
	}
	// Explicit methods in source order, then those of embedded interfaces
	// in the order of the method set (by name).
	seen := map[string]bool{}
	var fns []*types.Func
	for i := range it.NumExplicitMethods() {
		fns = append(fns, it.ExplicitMethod(i))
		seen[it.ExplicitMethod(i).Name()] = true
	}
	slices.SortFunc(fns, func(a, b *types.Func) int { return cmp.Compare(a.Pos(), b.Pos()) })
	for i := range it.NumMethods() {
		if fn := it.Method(i); !seen[fn.Name()] {
			fns = append(fns, fn)
		}
	}
	ok = true
	for _, fn := range fns {
		if !fn.Exported() && fn.Pkg() != pkg.Types {
			p.errorf(iface.Pos, "", "cannot decorate %s: it embeds unexported method %s of package %s", iface.Name, fn.Name(), fn.Pkg().Path())
			ok = false
			continue
		}
		m := p.method(pkg, iface, fn)
		if m == nil {
			ok = false
			continue
		}
		iface.Methods = append(iface.Methods, m)
	}
	if !ok {
		return nil
	}
	for _, m := range iface.Methods {
		if m.Kind == model.Cache && (len(m.Results) > 1 || len(m.CacheErrors) > 0) {
			m.Holder = names.fresh("zoo" + iface.Name + m.Name)
		}
	}
	return iface
}

// method builds the model of one method; nil means it had problems, which
// are reported.
func (p *parser) method(pkg *packages.Package, iface *model.Interface, fn *types.Func) *model.Method {
	sig := fn.Type().(*types.Signature)
	m := &model.Method{Name: fn.Name(), Pos: p.pos(fn.Pos()), Variadic: sig.Variadic()}
	anns := p.annotations[fn.Pos()]
	var ann *annotation
	switch {
	case slices.Contains(anns, nil):
		return nil // already reported
	case len(anns) > 1:
		p.errorf(anns[1].pos, m.Name, "more than one //zoo: annotation; a method is either cached or invalidating")
		return nil
	case len(anns) == 1:
		ann = anns[0]
		m.Annotation = ann.text
		m.Pos = ann.pos
	}

	params := sig.Params()
	shares := p.sharedTypes(fn, params.Len())
	paramNames := &namer{} // names for unnamed parameters
	for i := range params.Len() {
		paramNames.reserve(params.At(i).Name())
	}
	scope := &refScope{params: map[string]*types.Var{}, results: map[string]int{}}
	var vars []*types.Var // of m.Params
	for i := range params.Len() {
		v := params.At(i)
		name := v.Name()
		if name == "" || name == "_" {
			name = paramNames.fresh(fmt.Sprintf("_p%d", i))
			if i > 0 || !isContext(v.Type()) {
				scope.unnamed = append(scope.unnamed, unnamedParam{index: i + 1, name: name, typ: typeString(v.Type(), pkg.Types)})
			}
		} else {
			scope.have = append(scope.have, name)
			scope.params[name] = v
		}
		if i == 0 && isContext(v.Type()) {
			m.Context = name
			continue
		}
		m.Params = append(m.Params, &model.Param{Name: name, Type: p.typ(v.Type()), SharesType: shares[i]})
		vars = append(vars, v)
		if isContext(v.Type()) && ann != nil && ann.verb == "cache" {
			p.errorf(m.Pos, m.Name, "context.Context must be the first parameter of a cached method (it is parameter %d)", i+1)
			return nil
		}
	}
	results := sig.Results()
	for i := range results.Len() {
		t := results.At(i).Type()
		if i == results.Len()-1 {
			if er, nillable := p.errorResult(t); er != nil {
				m.Error = er
				scope.errResult = results.At(i).Name()
				continue
			} else if !nillable && ann != nil {
				p.errorf(ann.pos, m.Name, "the last result, %s, implements error but cannot be nil, so it cannot say there was no error (return error or a pointer)", typeString(t, pkg.Types))
				return nil
			}
		}
		m.Results = append(m.Results, p.typ(t))
		scope.addResult(results.At(i).Name(), t)
	}
	if invalidType(m) {
		p.errorf(m.Pos, m.Name, "its signature does not type-check: a type in it is undefined or invalid")
		return nil
	}
	if ann == nil {
		return m
	}

	switch ann.verb {
	case "cache":
		m.Kind = model.Cache
		if len(m.Results) == 0 {
			p.errorf(ann.pos, m.Name, "a cached method must return a value to cache (want T, (T, error) or (T1, T2, error); it returns %s)", resultsString(sig))
			return nil
		}
		ok := true
		if o := ann.option("each"); o != nil {
			ok = p.each(pkg, m, ann, o, scope, vars) // each.go
		} else if o := ann.option("key"); o != nil {
			ok = p.key(pkg, m, o, scope)
		} else {
			for i, param := range m.Params {
				k, err := p.keyPlan(pkg.Types, vars[i].Type(), nil)
				if err != nil {
					p.errorf(ann.pos, m.Name, "cannot cache by argument %s (parameter %d): %v", param.Name, i+1, err)
					ok = false
				}
				param.Key = k
			}
		}
		if o := ann.option("ttl"); o != nil {
			d, err := time.ParseDuration(o.value)
			switch {
			case err != nil:
				p.errorf(o.valuePos, m.Name, "ttl %q is not a duration (want a Go duration such as 90s, 10m or 1h30m)", o.value)
				ok = false
			case d <= 0:
				p.errorf(o.valuePos, m.Name, "ttl %q is not positive", o.value)
				ok = false
			case d > maxTTL:
				p.errorf(o.valuePos, m.Name, "ttl %q is longer than 100 years (876000h), the longest the runtime keeps an entry", o.value)
				ok = false
			default:
				m.TTL = d
			}
		}
		if o := ann.option("copy"); o != nil {
			switch o.value {
			case "true":
				m.Copy = true
			case "false":
			default:
				p.errorf(o.valuePos, m.Name, "copy %q is not true or false", o.value)
				ok = false
			}
		}
		if o := ann.option("errors"); o != nil {
			if m.Error == nil {
				p.errorf(o.pos, m.Name, "errors=%s: the method returns no error to cache", o.value)
				ok = false
			}
			for name := range strings.SplitSeq(o.value, ",") {
				ref := p.errorRef(pkg, fn, strings.TrimSpace(name), o, m.Name)
				if ref == nil {
					ok = false
					continue
				}
				m.CacheErrors = append(m.CacheErrors, ref)
			}
		}
		ok = p.refreshOptions(m, ann) && ok
		ok = p.codecCheck(pkg.Types, m, scope.resultTypes) && ok
		if !p.deps(pkg, m, ann, scope) || !ok {
			return nil
		}
	case "invalidate":
		m.Kind = model.Invalidate
		if ann.option("deps") == nil {
			p.errorf(ann.pos, m.Name, "//zoo:invalidate needs deps=\"...\": the tags to invalidate after the write")
			return nil
		}
		if !p.deps(pkg, m, ann, scope) {
			return nil
		}
	}
	return m
}

// deps resolves the deps option of an annotation into m.Deps and reports
// whether it is valid.
func (p *parser) deps(pkg *packages.Package, m *model.Method, ann *annotation, scope *refScope) bool {
	o := ann.option("deps")
	if o == nil {
		return true
	}
	tags, templates, ok := p.parseDeps(o, m.Name)
	if !ok {
		return false
	}
	for i, segs := range tags {
		dep := &model.Dep{Template: templates[i]}
		for _, raw := range segs {
			seg := p.segment(pkg.Types, raw, scope, o, m.Name)
			if seg == nil {
				ok = false
				continue
			}
			dep.Segments = append(dep.Segments, seg)
		}
		m.Deps = append(m.Deps, dep)
	}
	return ok
}

// key resolves the key option of a cached method into m.Key and reports
// whether it is valid.
func (p *parser) key(pkg *packages.Package, m *model.Method, o *option, scope *refScope) bool {
	refs, ok := p.parseKey(o, m.Name)
	for _, raw := range refs {
		if ref := p.keyRef(pkg.Types, raw, scope, o, m.Name); ref != nil {
			m.Key = append(m.Key, ref)
		} else {
			ok = false
		}
	}
	return ok
}

// sharedTypes returns, for each of the n parameters of fn, whether the
// next one was declared with it (oid, sid int64), from the method's syntax;
// all false when the loaded packages hold none (a method embedded from a
// package loaded from export data).
func (p *parser) sharedTypes(fn *types.Func, n int) []bool {
	shares := make([]bool, n)
	ft := p.funcTypes[fn.Pos()]
	if ft == nil || ft.Params == nil {
		return shares
	}
	i := 0
	for _, field := range ft.Params.List {
		for j := range field.Names {
			if i < n && j < len(field.Names)-1 {
				shares[i] = true
			}
			i++
		}
		if len(field.Names) == 0 {
			i++
		}
	}
	if i != n {
		return make([]bool, n) // the syntax is not this signature's
	}
	return shares
}

// invalidType reports whether a type of m's parameters or results is one
// the type checker could not resolve. Load reports the errors inside the
// interfaces zoogen decorates and those they embed; this catches the rest
// (a method embedded from a package that does not type-check), which must
// not become uncompilable output.
func invalidType(m *model.Method) bool {
	bad := false
	check := func(t model.Type) {
		model.Walk(t, func(t model.Type) {
			if b, ok := t.(*model.Basic); ok && b.Name == types.Typ[types.Invalid].Name() {
				bad = true
			}
		})
	}
	for _, param := range m.Params {
		check(param.Type)
	}
	for _, r := range m.Results {
		check(r)
	}
	return bad
}

// errorResult returns the error result a last result of type t makes: one
// if t implements error and can be nil (an interface or a pointer), else
// nil. nillable is false when t implements error but cannot be nil (a
// struct), which an annotated method may not return. A type parameter is
// never an error result: its values may not compare with nil.
func (p *parser) errorResult(t types.Type) (er *model.ErrorResult, nillable bool) {
	if _, ok := types.Unalias(t).(*types.TypeParam); ok || !types.Implements(t, errorInterface) {
		return nil, true
	}
	switch u := t.Underlying().(type) {
	case *types.Interface:
		return &model.ErrorResult{Type: p.typ(t), Interface: types.Identical(u, errorInterface)}, true
	case *types.Pointer, *types.Map, *types.Slice, *types.Chan, *types.Signature:
		return &model.ErrorResult{Type: p.typ(t)}, true
	}
	return nil, false
}

// resultsString spells the results of sig for messages: "nothing", one
// type, or the parenthesized list.
func resultsString(sig *types.Signature) string {
	switch sig.Results().Len() {
	case 0:
		return "nothing"
	case 1:
		return sig.Results().At(0).Type().String()
	}
	return sig.Results().String()
}

// errorRef resolves a name of the errors option: a package-level error
// variable of the method's package, or pkg.Name of an imported package.
func (p *parser) errorRef(pkg *packages.Package, fn *types.Func, name string, o *option, method string) *model.Ref {
	var obj types.Object
	if qual, sel, ok := strings.Cut(name, "."); ok {
		file := p.fileOf(pkg, fn.Pos())
		for _, imp := range file.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			ipkg := pkg.Imports[path]
			if ipkg == nil {
				continue
			}
			local := ipkg.Name
			if imp.Name != nil {
				local = imp.Name.Name
			}
			if local == qual {
				obj = ipkg.Types.Scope().Lookup(sel)
				break
			}
		}
	} else {
		obj = pkg.Types.Scope().Lookup(name)
	}
	v, ok := obj.(*types.Var)
	if !ok || !isError(v.Type()) && !types.Implements(v.Type(), errorInterface) {
		p.errorf(o.valuePos, method, "errors=%s: %s is not a package-level error variable (want a sentinel such as ErrNotFound or sql.ErrNoRows)", o.value, name)
		return nil
	}
	if !v.Exported() && v.Pkg() != pkg.Types {
		p.errorf(o.valuePos, method, "errors=%s: %s is not exported", o.value, name)
		return nil
	}
	p.pkgNames[v.Pkg().Path()] = v.Pkg().Name()
	return &model.Ref{Pkg: v.Pkg().Path(), Name: v.Name()}
}

// fileOf returns the syntax of the file of pkg that holds pos, or an empty
// file.
func (p *parser) fileOf(pkg *packages.Package, pos token.Pos) *ast.File {
	for _, f := range pkg.Syntax {
		if f.FileStart <= pos && pos <= f.FileEnd {
			return f
		}
	}
	return &ast.File{}
}
