package generator

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dave/jennifer/jen"
	"golang.org/x/tools/imports"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// emitter writes the generated files of one package.
type emitter struct {
	pkg *model.Package
}

// emitFile returns the generated source for one file, gofmt'd.
func (e *emitter) emitFile(file *model.File) ([]byte, error) {
	f := jen.NewFilePathName(e.pkg.Path, e.pkg.Name)
	f.HeaderComment(strings.TrimPrefix(Header, "// "))
	for _, imp := range e.pkg.Imports {
		if imp.Alias {
			f.ImportAlias(imp.Path, imp.Name)
		} else {
			f.ImportName(imp.Path, imp.Name)
		}
	}
	for _, it := range file.Interfaces {
		e.iface(f, it)
	}
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", file.Output, err)
	}
	// jennifer writes the imports as one block; goimports' grouping
	// (standard library, then the others) is what readers expect. It
	// depends on the import paths alone, so the output stays deterministic.
	src, err := imports.Process(file.Output, buf.Bytes(), &imports.Options{FormatOnly: true, Comments: true, TabIndent: true, TabWidth: 8})
	if err != nil {
		return nil, fmt.Errorf("formatting %s: %w", file.Output, err)
	}
	return src, nil
}

// rt refers to name in the runtime package.
func rt(name string) *jen.Statement { return jen.Qual(RuntimePath, name) }

// commentWidth is the width doc comments are wrapped at, "// " included.
const commentWidth = 100

// comment writes a doc comment as // lines (jennifer would write a block
// comment for several lines): each paragraph reflowed to commentWidth, an
// empty // line between paragraphs.
func comment(f *jen.File, paragraphs ...string) {
	for i, para := range paragraphs {
		if i > 0 {
			f.Comment("")
		}
		line := ""
		for _, word := range strings.Fields(para) {
			if line != "" && len("// ")+len(line)+1+len(word) > commentWidth {
				f.Comment(line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += word
		}
		f.Comment(line)
	}
}

// annotationComment writes the last paragraph of a method's doc comment,
// the annotation it was generated from, on a line of its own however long.
func annotationComment(f *jen.File, annotation string) {
	f.Comment("")
	f.Comment("Annotation: " + annotation)
}

// article returns "an" when word (a Go name, a leading * ignored) starts
// with a vowel letter, else "a": an ArticleRepository, a ProductRepo, an
// *AppError. Names are read as spelt, so the rule is the letter's, not
// the sound's (it says "an UserRepo" for a name starting with a long U).
func article(word string) string {
	if w := strings.TrimLeft(word, "*"); w != "" && strings.ContainsRune("AEIOUaeiou", rune(w[0])) {
		return "an"
	}
	return "a"
}

// typeParams returns the declaration [T any, K comparable] and the use [T, K]
// of an interface's type parameters, or empty statements.
func (e *emitter) typeParams(it *model.Interface) (decl, use *jen.Statement) {
	if len(it.TypeParams) == 0 {
		return jen.Null(), jen.Null()
	}
	var d, u []jen.Code
	for _, tp := range it.TypeParams {
		d = append(d, jen.Id(tp.Name).Add(e.typ(tp.Constraint)))
		u = append(u, jen.Id(tp.Name))
	}
	return jen.Types(d...), jen.Types(u...)
}

// field names the decorator's field holding the runtime handle of m.
func field(m *model.Method) string { return "_m" + m.Name }

// iface writes the decorator of one interface: its struct, constructor,
// methods and holder structs.
func (e *emitter) iface(f *jen.File, it *model.Interface) {
	tdecl, tuse := e.typeParams(it)
	ifaceType := func() *jen.Statement { return jen.Id(it.Name).Add(tuse.Clone()) }
	decoType := func() *jen.Statement { return jen.Id(it.Decorator).Add(tuse.Clone()) }

	comment(f,
		fmt.Sprintf("%s is %s %s that serves the reads annotated with //zoo:cache from a cache and "+
			"invalidates after the writes annotated with //zoo:invalidate; other methods call the inner %s. "+
			"Make one with %s.", it.Decorator, article(it.Name), it.Name, it.Name, it.Constructor),
		fmt.Sprintf("It is safe for concurrent use if the inner %s is.%s", it.Name, sharingRule(it)))
	f.Type().Id(it.Decorator).Add(tdecl.Clone()).StructFunc(func(g *jen.Group) {
		g.Id("_inner").Add(ifaceType())
		for _, m := range it.Methods {
			if m.Kind != model.Passthrough {
				g.Id(field(m)).Op("*").Add(rt("Method"))
			}
		}
	})
	f.Line()
	if len(it.TypeParams) == 0 {
		f.Var().Id("_").Id(it.Name).Op("=").Parens(jen.Op("*").Id(it.Decorator)).Parens(jen.Nil())
		f.Line()
	}

	reserved := newNamer(it.Name, it.Decorator)
	for _, tp := range it.TypeParams {
		reserved.reserve(tp.Name)
	}
	inner, cache := reserved.fresh("inner"), reserved.fresh("c")
	comment(f, fmt.Sprintf("%s returns %s *%s that caches the annotated reads of %s in %s.",
		it.Constructor, article(it.Decorator), it.Decorator, inner, cache))
	f.Func().Id(it.Constructor).Add(tdecl.Clone()).
		Params(jen.Id(inner).Add(ifaceType()), jen.Id(cache).Op("*").Add(rt("Cache"))).
		Op("*").Add(decoType()).
		BlockFunc(func(g *jen.Group) {
			ifaceName := jen.Lit(it.Name)
			if len(it.TypeParams) > 0 {
				g.Var().Id("_").Add(ifaceType()).Op("=").Parens(jen.Op("*").Add(decoType())).Parens(jen.Nil())
				ifaceName = jen.Lit(it.Name + "[")
				for i, tp := range it.TypeParams {
					if i > 0 {
						ifaceName.Op("+").Lit(",")
					}
					ifaceName.Op("+").Add(rt("TypeName").Types(jen.Id(tp.Name)).Call())
				}
				ifaceName.Op("+").Lit("]")
			}
			// The fields in the order the struct declares them; jen.Dict
			// would sort them.
			g.Return(jen.Op("&").Add(decoType()).ValuesFunc(func(d *jen.Group) {
				d.Line().Id("_inner").Op(":").Id(inner)
				for _, m := range it.Methods {
					if m.Kind == model.Passthrough {
						continue
					}
					d.Line().Id(field(m)).Op(":").Id(cache).Dot("Method").Call(rt("MethodSpec").ValuesFunc(func(s *jen.Group) {
						s.Line().Id("Package").Op(":").Lit(e.pkg.Path)
						s.Line().Id("Interface").Op(":").Add(ifaceName.Clone())
						s.Line().Id("Method").Op(":").Lit(m.Name)
						if m.TTL > 0 {
							s.Line().Id("TTL").Op(":").Add(duration(m.TTL))
						}
						if m.Copy {
							s.Line().Id("Copy").Op(":").True()
						}
						if m.Refresh > 0 {
							s.Line().Id("Refresh").Op(":").Add(duration(m.Refresh))
						}
						if m.StaleIfError > 0 {
							s.Line().Id("StaleIfError").Op(":").Add(duration(m.StaleIfError))
						}
						s.Line()
					}))
				}
				d.Line()
			}))
		})
	f.Line()

	for _, m := range it.Methods {
		e.method(f, it, m)
		if m.Holder != "" {
			e.holder(f, it, m)
		}
	}
}

// sharingRule is the paragraph of a decorator's doc comment that says how
// cached values are shared, or "" if it caches nothing.
func sharingRule(it *model.Interface) string {
	for _, m := range it.Methods {
		if m.Kind == model.Cache {
			return "\n\nValues returned from the cache are shared by every caller: do not modify\n" +
				"them, or annotate the method with copy=true, which gives every caller a copy."
		}
	}
	return ""
}

// duration spells d in the largest unit that divides it: 10 * time.Minute.
func duration(d time.Duration) *jen.Statement {
	units := []struct {
		d    time.Duration
		name string
	}{{time.Hour, "Hour"}, {time.Minute, "Minute"}, {time.Second, "Second"},
		{time.Millisecond, "Millisecond"}, {time.Microsecond, "Microsecond"}}
	for _, u := range units {
		if d%u.d == 0 {
			if d == u.d {
				return jen.Qual("time", u.name)
			}
			return jen.Lit(int(d/u.d)).Op("*").Qual("time", u.name)
		}
	}
	return jen.Qual("time", "Duration").Call(jen.Lit(int(d)))
}

// call is a call of the inner method with the method's arguments; ctx names
// the context to pass, if the method takes one.
func call(recv string, m *model.Method, ctx string) *jen.Statement {
	return jen.Id(recv).Dot("_inner").Dot(m.Name).CallFunc(func(g *jen.Group) {
		if m.Context != "" {
			g.Id(ctx)
		}
		for i, p := range m.Params {
			if m.Variadic && i == len(m.Params)-1 {
				g.Id(p.Name).Op("...")
			} else {
				g.Id(p.Name)
			}
		}
	})
}

// method writes the decorator's method for m; its locals come from a namer
// that holds the type parameters and m's parameters.
func (e *emitter) method(f *jen.File, it *model.Interface, m *model.Method) {
	_, tuse := e.typeParams(it)
	n := &namer{} // the method's locals
	for _, tp := range it.TypeParams {
		n.reserve(tp.Name)
	}
	if m.Context != "" {
		n.reserve(m.Context)
	}
	for _, p := range m.Params {
		n.reserve(p.Name)
	}
	recv := n.fresh("_r")

	switch m.Kind {
	case model.Passthrough:
		comment(f, fmt.Sprintf("%s calls the inner %s.", m.Name, it.Name))
	case model.Cache:
		paras := []string{fmt.Sprintf("%s serves %s.%s from the cache, and loads it on a miss with the inner %s.",
			m.Name, it.Name, m.Name, it.Name)}
		if len(m.Key) > 0 {
			var refs []string
			for _, r := range m.Key {
				refs = append(refs, r.Ref)
			}
			paras = append(paras, fmt.Sprintf("Its cache key is made of %s alone (key=): the annotation "+
				"asserts that the other arguments do not change the result.", strings.Join(refs, ", ")))
		}
		if m.Each != nil {
			paras = append(paras, batchDoc(m))
		}
		comment(f, paras...)
		annotationComment(f, m.Annotation)
	case model.Invalidate:
		comment(f, fmt.Sprintf("%s calls the inner %s and, when it succeeds, invalidates what the cache "+
			"holds under its tags.", m.Name, it.Name))
		annotationComment(f, m.Annotation)
	}
	f.Func().Params(jen.Id(recv).Op("*").Id(it.Decorator).Add(tuse.Clone())).Id(m.Name).
		ParamsFunc(func(g *jen.Group) {
			if m.Context != "" {
				g.Id(m.Context).Qual("context", "Context")
			}
			for i, p := range m.Params {
				switch {
				case p.SharesType:
					g.Id(p.Name) // oid, sid int64: the type follows the last
				case m.Variadic && i == len(m.Params)-1:
					g.Id(p.Name).Op("...").Add(e.typ(p.Type.(*model.Slice).Elem))
				default:
					g.Id(p.Name).Add(e.typ(p.Type))
				}
			}
		}).
		Add(e.results(m)).
		BlockFunc(func(g *jen.Group) {
			switch m.Kind {
			case model.Passthrough:
				if len(m.Results) > 0 || m.Error != nil {
					g.Return(call(recv, m, m.Context))
				} else {
					g.Add(call(recv, m, m.Context))
				}
			case model.Invalidate:
				e.invalidateBody(g, m, recv, n)
			case model.Cache:
				if m.Each != nil {
					e.batchBody(g, m, recv, n) // emit_batch.go
					return
				}
				e.cacheBody(g, it, m, recv, n)
			}
		})
	f.Line()
}

// results spells the result list of m.
func (e *emitter) results(m *model.Method) *jen.Statement {
	var rs []jen.Code
	for _, r := range m.Results {
		rs = append(rs, e.typ(r))
	}
	if m.Error != nil {
		rs = append(rs, e.typ(m.Error.Type))
	}
	switch len(rs) {
	case 0:
		return jen.Null()
	case 1:
		return jen.Add(rs[0])
	}
	return jen.Parens(jen.List(rs...))
}

// tags returns the Tag calls of deps; results names the variables that hold
// the method's results, for the templates that read them.
func (e *emitter) tags(deps []*model.Dep, results []string) []jen.Code {
	var out []jen.Code
	for _, d := range deps {
		out = append(out, rt("Tag").CallFunc(func(g *jen.Group) {
			for _, s := range d.Segments {
				if !s.IsParam() {
					g.Lit(s.Text)
					continue
				}
				x := jen.Id(s.Param)
				if s.Result > 0 {
					x = jen.Id(results[s.Result-1])
				}
				for i, sel := range s.Path {
					x.Dot(sel)
					if s.Calls[i] {
						x.Call()
					}
				}
				if s.Conv != "" {
					x = jen.Id(s.Conv).Call(x)
				}
				g.Add(x)
			}
		}))
	}
	return out
}

// splitDeps returns the method's tag templates that name parameters only,
// and those that name a result, known once the inner call returned.
func splitDeps(m *model.Method) (params, results []*model.Dep) {
	for _, d := range m.Deps {
		if slices.ContainsFunc(d.Segments, func(s *model.Segment) bool { return s.Result > 0 }) {
			results = append(results, d)
		} else {
			params = append(params, d)
		}
	}
	return params, results
}

// invalidateBody writes the body of an invalidating method: the inner call,
// then, when it returned no error, the invalidation of its tags.
func (e *emitter) invalidateBody(g *jen.Group, m *model.Method, recv string, n *namer) {
	ctx := jen.Id(m.Context)
	if m.Context == "" {
		ctx = jen.Qual("context", "Background").Call()
	}
	var vars []jen.Code
	var names []string
	for i := range m.Results {
		names = append(names, n.fresh(fmt.Sprintf("_r%d", i)))
		vars = append(vars, jen.Id(names[i]))
	}
	invalidate := jen.Id(recv).Dot(field(m)).Dot("Invalidate").Call(append([]jen.Code{ctx}, e.tags(m.Deps, names)...)...)
	var errVar string
	if m.Error != nil {
		errVar = n.fresh("_err")
		vars = append(vars, jen.Id(errVar))
	}
	if len(vars) == 0 {
		g.Add(call(recv, m, m.Context))
		g.Add(invalidate)
		return
	}
	g.List(vars...).Op(":=").Add(call(recv, m, m.Context))
	if m.Error != nil {
		// errVar has the declared type: a nil *AppError is no error.
		g.If(jen.Id(errVar).Op("==").Nil()).Block(invalidate)
	} else {
		g.Add(invalidate)
	}
	g.Return(vars...)
}

// cacheBody writes the body of a cached method: the key, the lookup, and on
// a miss the load through the inner method.
func (e *emitter) cacheBody(g *jen.Group, it *model.Interface, m *model.Method, recv string, n *namer) {
	_, tuse := e.typeParams(it)
	ctx := m.Context
	if ctx == "" {
		ctx = n.fresh("_ctx")
		g.Id(ctx).Op(":=").Qual("context", "Background").Call()
	}
	buf, k, v, ok, miss, errVar := n.fresh("_buf"), n.fresh("_k"), n.fresh("_v"), n.fresh("_ok"), n.fresh("_miss"), n.fresh("_err")
	handle := func() *jen.Statement { return jen.Id(recv).Dot(field(m)) }
	valueType := func() *jen.Statement {
		if m.Holder != "" {
			return jen.Id(m.Holder).Add(tuse.Clone())
		}
		return e.typ(m.Results[0])
	}
	// own is set by the loader to the repository's own error when it caches
	// the error as a message: the caller whose load ran returns that error,
	// not one rebuilt from the message.
	own := ""
	if len(m.CacheErrors) > 0 && m.Error.Interface {
		own = n.fresh("_own")
	}

	g.Var().Id(buf).Index(jen.Lit(128)).Byte()
	g.Id(k).Op(":=").Add(handle()).Dot("Key").Call(jen.Id(buf).Index(jen.Empty(), jen.Lit(0)))
	if len(m.Key) > 0 {
		for _, r := range m.Key {
			e.key(g, k, func() *jen.Statement { return jen.Id(r.Param) }, r.Key, n)
		}
	} else {
		for _, p := range m.Params {
			e.key(g, k, func() *jen.Statement { return jen.Id(p.Name) }, p.Key, n)
		}
	}
	g.List(jen.Id(v), jen.Id(ok), jen.Id(miss)).Op(":=").Add(rt("Find").Types(valueType())).Call(jen.Id(ctx), handle(), jen.Id(k))

	// unpack returns the method's results from the cached value.
	unpack := func(err jen.Code) []jen.Code {
		var out []jen.Code
		if m.Holder == "" {
			out = append(out, jen.Id(v))
		} else {
			for i := range m.Results {
				out = append(out, jen.Id(v).Dot(fmt.Sprintf("R%d", i)))
			}
		}
		if m.Error != nil {
			out = append(out, err)
		}
		return out
	}

	g.If(jen.Op("!").Id(ok)).BlockFunc(func(b *jen.Group) {
		b.Var().Id(errVar).Error()
		if own != "" {
			b.Var().Id(own).Add(e.typ(m.Error.Type))
		}
		b.List(jen.Id(v), jen.Id(errVar)).Op("=").Add(rt("LoadMiss").Types(valueType())).Call(
			jen.Id(ctx), handle(), jen.Id(k), jen.Id(miss),
			jen.Func().Params(jen.Id(ctx).Qual("context", "Context")).Params(valueType(), jen.Error()).
				BlockFunc(func(lb *jen.Group) { e.loaderBody(lb, m, recv, ctx, own, n, valueType) }),
		)
		b.If(jen.Id(errVar).Op("!=").Nil()).BlockFunc(func(eb *jen.Group) {
			e.loadFailed(eb, m, recv, ctx, errVar, n, unpack)
		})
		if own != "" {
			b.Comment("This call's load ran: return the repository's own error.")
			b.If(jen.Id(own).Op("!=").Nil()).Block(jen.Return(unpack(jen.Id(own))...))
		}
	})
	switch {
	case len(m.CacheErrors) == 0:
	case m.Error.Interface:
		g.Switch(jen.Id(v).Dot("E")).BlockFunc(func(sg *jen.Group) {
			for i, ref := range m.CacheErrors {
				cached := e.asError(m, rt("CachedError").Call(jen.Qual(ref.Pkg, ref.Name), jen.Id(v).Dot("M")))
				sg.Case(jen.Lit(i + 1)).Block(jen.Return(unpack(cached)...))
			}
		})
	default:
		g.Return(unpack(jen.Id(v).Dot("Err"))...)
		return
	}
	g.Return(unpack(jen.Nil())...)
}

// asError converts x, an error, to the method's error type, an interface
// with error's method set.
func (e *emitter) asError(m *model.Method, x *jen.Statement) *jen.Statement {
	if b, ok := m.Error.Type.(*model.Basic); ok && b.Name == "error" {
		return x
	}
	return e.typ(m.Error.Type).Call(x)
}

// loadFailed writes what a cached method returns when LoadMiss returned the
// error errVar: zero values and the error, as the method's error type.
func (e *emitter) loadFailed(g *jen.Group, m *model.Method, recv, ctx, errVar string, n *namer, unpack func(jen.Code) []jen.Code) {
	switch {
	case m.Error == nil:
		g.Comment(m.Name + " has no error result to report that the load failed (ctx ended")
		g.Comment("while the call waited for another caller's load): return zero values,")
		g.Comment("and do not ask the repository a second time.")
		g.Return(unpack(nil)...)
	case m.Error.Interface:
		g.Return(unpack(e.asError(m, jen.Id(errVar)))...)
	default:
		ev, is := n.fresh("_e"), n.fresh("_is")
		g.If(jen.List(jen.Id(ev), jen.Id(is)).Op(":=").Id(errVar).Assert(e.typ(m.Error.Type)), jen.Id(is)).
			Block(jen.Return(unpack(jen.Id(ev))...))
		g.Comment("The one case the error is not of the method's error type: the runtime")
		g.Comment("ended the call, as when ctx ended while it waited for another caller's")
		g.Comment("load. The repository reports the ended context in its own type: ask it,")
		g.Comment("once.")
		g.Return(call(recv, m, ctx))
	}
}

// loaderBody writes the loader a cached method passes to LoadMiss: it adds the
// method's tags, calls the inner method and packs its results. A cached
// error that is kept as a message is also stored in own.
func (e *emitter) loaderBody(g *jen.Group, m *model.Method, recv, ctx, own string, n *namer, valueType func() *jen.Statement) {
	before, after := splitDeps(m)
	if tags := e.tags(before, nil); len(tags) > 0 {
		g.Add(rt("AddDeps").Call(append([]jen.Code{jen.Id(ctx)}, tags...)...))
	}
	if m.Holder == "" && len(after) == 0 {
		switch {
		case m.Error == nil:
			g.Return(call(recv, m, ctx), jen.Nil())
			return
		case m.Error.Interface:
			g.Return(call(recv, m, ctx))
			return
		}
		// A concrete error type is unpacked below: a nil *AppError must
		// not become a non-nil error.
	}
	var vars []jen.Code
	var names []string
	fields := jen.Dict{}
	for i := range m.Results {
		r := n.fresh(fmt.Sprintf("_r%d", i))
		vars = append(vars, jen.Id(r))
		names = append(names, r)
		fields[jen.Id(fmt.Sprintf("R%d", i))] = jen.Id(r)
	}
	var errVar string
	if m.Error != nil {
		errVar = n.fresh("_err")
		vars = append(vars, jen.Id(errVar))
	}
	value := valueType().Values(fields)
	if m.Holder == "" {
		value = jen.Id(names[0])
	}
	g.List(vars...).Op(":=").Add(call(recv, m, ctx))
	if m.Error != nil {
		g.If(jen.Id(errVar).Op("!=").Nil()).BlockFunc(func(ib *jen.Group) {
			is := func(ref *model.Ref) *jen.Statement {
				return jen.Qual("errors", "Is").Call(jen.Id(errVar), jen.Qual(ref.Pkg, ref.Name))
			}
			if m.Error.Interface {
				for i, ref := range m.CacheErrors {
					ib.If(is(ref)).Block(
						jen.Id(own).Op("=").Id(errVar),
						jen.Return(valueType().Values(jen.Dict{
							jen.Id("E"): jen.Lit(i + 1),
							jen.Id("M"): jen.Id(errVar).Dot("Error").Call(),
						}), jen.Nil()))
				}
			} else if len(m.CacheErrors) > 0 {
				var cond *jen.Statement
				for i, ref := range m.CacheErrors {
					if i == 0 {
						cond = is(ref)
					} else {
						cond.Op("||").Add(is(ref))
					}
				}
				ib.If(cond).Block(jen.Return(valueType().Values(jen.Dict{jen.Id("Err"): jen.Id(errVar)}), jen.Nil()))
			}
			if m.Holder == "" {
				ib.Return(jen.Id(names[0]), jen.Id(errVar))
			} else {
				ib.Return(valueType().Values(), jen.Id(errVar))
			}
		})
	}
	if len(after) > 0 {
		// Tags that name results are known once the inner call returned.
		g.Add(rt("AddDeps").Call(append([]jen.Code{jen.Id(ctx)}, e.tags(after, names)...)...))
	}
	g.Return(value, jen.Nil())
}

// holder declares the struct that carries a method's results in the cache.
func (e *emitter) holder(f *jen.File, it *model.Interface, m *model.Method) {
	tdecl, _ := e.typeParams(it)
	comment(f, fmt.Sprintf("%s holds the results of %s.%s in the cache.", m.Holder, it.Name, m.Name))
	f.Type().Id(m.Holder).Add(tdecl).StructFunc(func(g *jen.Group) {
		for i, r := range m.Results {
			g.Id(fmt.Sprintf("R%d", i)).Add(e.typ(r))
		}
		switch {
		case len(m.CacheErrors) == 0:
		case m.Error.Interface:
			g.Id("E").Int().Comment("1 + the index of the cached sentinel error, or 0")
			g.Id("M").String().Comment("the cached error's message")
		default:
			g.Id("Err").Add(e.typ(m.Error.Type)).Comment("the cached error, or nil")
		}
	})
	f.Line()
}

// key writes the statements that append the value x to the key k.
func (e *emitter) key(g *jen.Group, k string, x func() *jen.Statement, plan *model.Key, n *namer) {
	conv := func() *jen.Statement {
		if plan.Basic != "" {
			if plan.Basic == "[]byte" {
				return jen.Index().Byte().Call(x())
			}
			return jen.Id(plan.Basic).Call(x())
		}
		return x()
	}
	appendTo := func(fn string, args ...jen.Code) {
		g.Id(k).Op("=").Add(rt(fn)).Call(append([]jen.Code{jen.Id(k)}, args...)...)
	}
	switch plan.Kind {
	case model.KeyInt:
		appendTo("KeyInt", conv())
	case model.KeyUint:
		appendTo("KeyUint", conv())
	case model.KeyFloat:
		appendTo("KeyFloat", conv())
	case model.KeyBool:
		appendTo("KeyBool", conv())
	case model.KeyString:
		appendTo("KeyString", conv())
	case model.KeyBytes:
		appendTo("KeyBytes", conv())
	case model.KeyTime:
		appendTo("KeyTime", x())
	case model.KeyBinary:
		appendTo("KeyBinary", x())
	case model.KeyText:
		appendTo("KeyText", x())
	case model.KeyAny:
		appendTo("KeyAny", x())
	case model.KeyPtr:
		g.If(x().Op("==").Nil()).Block(
			jen.Id(k).Op("=").Add(rt("KeyNil")).Call(jen.Id(k)),
		).Else().BlockFunc(func(b *jen.Group) {
			b.Id(k).Op("=").Add(rt("KeyPtr")).Call(jen.Id(k))
			deref := func() *jen.Statement { return jen.Op("*").Add(x()) }
			if plan.Elem.Kind == model.KeyStruct {
				deref = x // fields are selected through the pointer
			}
			e.key(b, k, deref, plan.Elem, n)
		})
	case model.KeySlice:
		appendTo("KeyLen", jen.Len(x()))
		elem := n.fresh("_e")
		g.For(jen.List(jen.Id("_"), jen.Id(elem)).Op(":=").Range().Add(x())).BlockFunc(func(b *jen.Group) {
			e.key(b, k, func() *jen.Statement { return jen.Id(elem) }, plan.Elem, n)
		})
	case model.KeyStruct:
		for _, fl := range plan.Fields {
			e.key(g, k, func() *jen.Statement {
				if fl.Call {
					return x().Dot(fl.Name).Call()
				}
				return x().Dot(fl.Name)
			}, fl.Key, n)
		}
	}
}

// typ spells a type.
func (e *emitter) typ(t model.Type) *jen.Statement {
	switch t := t.(type) {
	case *model.Basic:
		return jen.Id(t.Name)
	case *model.Named:
		s := jen.Qual(t.Pkg, t.Name)
		if len(t.Args) > 0 {
			var args []jen.Code
			for _, a := range t.Args {
				args = append(args, e.typ(a))
			}
			s.Types(args...)
		}
		return s
	case *model.TypeParamRef:
		return jen.Id(t.Name)
	case *model.Pointer:
		return jen.Op("*").Add(e.typ(t.Elem))
	case *model.Slice:
		return jen.Index().Add(e.typ(t.Elem))
	case *model.Array:
		return jen.Index(jen.Lit(int(t.Len))).Add(e.typ(t.Elem))
	case *model.Map:
		return jen.Map(e.typ(t.Key)).Add(e.typ(t.Elem))
	case *model.Chan:
		switch t.Dir {
		case model.Send:
			return jen.Chan().Op("<-").Add(e.typ(t.Elem))
		case model.Recv:
			return jen.Op("<-").Chan().Add(e.typ(t.Elem))
		}
		return jen.Chan().Add(e.typ(t.Elem))
	case *model.Func:
		return jen.Func().Add(e.signature(t))
	case *model.Struct:
		return jen.StructFunc(func(g *jen.Group) {
			for _, fl := range t.Fields {
				var s *jen.Statement
				if fl.Embedded {
					s = g.Add(e.typ(fl.Type))
				} else {
					s = g.Id(fl.Name).Add(e.typ(fl.Type))
				}
				if fl.Tag != "" {
					s.Op("`" + fl.Tag + "`")
				}
			}
		})
	case *model.InterfaceLit:
		return jen.InterfaceFunc(func(g *jen.Group) {
			for _, em := range t.Embeds {
				g.Add(e.typ(em))
			}
			for _, m := range t.Methods {
				g.Id(m.Name).Add(e.signature(m.Sig))
			}
		})
	case *model.Union:
		var terms []jen.Code
		for _, term := range t.Terms {
			s := e.typ(term.Type)
			if term.Tilde {
				s = jen.Op("~").Add(s)
			}
			terms = append(terms, s)
		}
		return jen.Union(terms...)
	}
	panic(fmt.Sprintf("zoogen: unexpected model type %T", t))
}

// signature spells the parameters and results of a function type.
func (e *emitter) signature(f *model.Func) *jen.Statement {
	s := jen.ParamsFunc(func(g *jen.Group) {
		for i, p := range f.Params {
			if f.Variadic && i == len(f.Params)-1 {
				g.Op("...").Add(e.typ(p.(*model.Slice).Elem))
			} else {
				g.Add(e.typ(p))
			}
		}
	})
	switch len(f.Results) {
	case 0:
	case 1:
		s.Add(e.typ(f.Results[0]))
	default:
		s.ParamsFunc(func(g *jen.Group) {
			for _, r := range f.Results {
				g.Add(e.typ(r))
			}
		})
	}
	return s
}
