package generator

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// batchDoc is the paragraph of a batch read's doc comment that says how it
// is cached.
func batchDoc(m *model.Method) string {
	s := fmt.Sprintf("Each element of %s is cached as its own entry (each=), keyed by the other "+
		"arguments and the element: the inner %s is called once, with the elements the cache "+
		"does not hold, duplicates removed, and the elements it does not return are absent "+
		"from the result.", m.Each.Param, m.Name)
	if m.Each.Field != nil {
		s += " The result lists each element asked for once, in the order asked."
	}
	return s
}

// batchBody writes the body of a batch read: the Batch call, with the key
// of an element, its tags and the loader of the missing ones.
func (e *emitter) batchBody(g *jen.Group, m *model.Method, recv string, n *namer) {
	each := m.Each
	ctx := m.Context
	if ctx == "" {
		ctx = n.fresh("_ctx")
		g.Id(ctx).Op(":=").Qual("context", "Background").Call()
	}
	k, id, ids, res, errVar := n.fresh("_k"), n.fresh("_id"), n.fresh("_ids"), n.fresh("_res"), n.fresh("_err")
	elemType := func() *jen.Statement { return e.typ(each.Elem) }
	mapType := func() *jen.Statement { return jen.Map(e.typ(each.Elem)).Add(e.typ(each.Value)) }

	keyFn := jen.Func().Params(jen.Id(k).Index().Byte(), jen.Id(id).Add(elemType())).Index().Byte().
		BlockFunc(func(b *jen.Group) {
			for _, p := range m.Params {
				if p.Name == each.Param {
					e.key(b, k, func() *jen.Statement { return jen.Id(id) }, each.Key, n)
				} else {
					e.key(b, k, func() *jen.Statement { return jen.Id(p.Name) }, p.Key, n)
				}
			}
			b.Return(jen.Id(k))
		})
	tagsFn := jen.Func().Params(jen.Id(id).Add(elemType())).Index().String().
		Block(jen.Return(jen.Index().String().Values(e.tags(elementDeps(m.Deps, each.Param, id), nil)...)))
	loadFn := jen.Func().Params(jen.Id(ctx).Qual("context", "Context"), jen.Id(ids).Index().Add(elemType())).
		Params(mapType(), jen.Error()).
		BlockFunc(func(b *jen.Group) { e.batchLoader(b, m, recv, ctx, ids, n, mapType) })

	g.List(jen.Id(res), jen.Id(errVar)).Op(":=").Add(rt("Batch").Types(elemType(), e.typ(each.Value))).Call(
		jen.Id(ctx), jen.Id(recv).Dot(field(m)), jen.Id(each.Param), keyFn, tagsFn, loadFn)
	unpack := func(err jen.Code) []jen.Code {
		out := []jen.Code{jen.Nil()}
		if m.Error != nil {
			out = append(out, err)
		}
		return out
	}
	g.If(jen.Id(errVar).Op("!=").Nil()).BlockFunc(func(eb *jen.Group) {
		e.loadFailed(eb, m, recv, ctx, errVar, n, unpack)
	})
	var result jen.Code = jen.Id(res)
	if each.Field != nil {
		result = rt("InOrder").Call(jen.Id(each.Param), jen.Id(res))
	}
	if m.Error != nil {
		g.Return(result, jen.Nil())
	} else {
		g.Return(result)
	}
}

// batchLoader writes the loader of a batch read: the inner call with the
// missing elements, its result as a map by element.
func (e *emitter) batchLoader(g *jen.Group, m *model.Method, recv, ctx, ids string, n *namer, mapType func() *jen.Statement) {
	each := m.Each
	inner := jen.Id(recv).Dot("_inner").Dot(m.Name).CallFunc(func(c *jen.Group) {
		if m.Context != "" {
			c.Id(ctx)
		}
		for i, p := range m.Params {
			x := jen.Id(p.Name)
			if p.Name == each.Param {
				x = jen.Id(ids)
			}
			if m.Variadic && i == len(m.Params)-1 {
				x.Op("...")
			}
			c.Add(x)
		}
	})
	if each.Field == nil && (m.Error == nil || m.Error.Interface) {
		if m.Error == nil {
			g.Return(inner, jen.Nil())
		} else {
			g.Return(inner)
		}
		return
	}
	r, errVar := n.fresh("_r"), n.fresh("_err")
	if m.Error != nil {
		g.List(jen.Id(r), jen.Id(errVar)).Op(":=").Add(inner)
		// errVar has the declared type: a nil *AppError is no error.
		g.If(jen.Id(errVar).Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id(errVar)))
	} else {
		g.Id(r).Op(":=").Add(inner)
	}
	if each.Field == nil {
		g.Return(jen.Id(r), jen.Nil())
		return
	}
	out, v := n.fresh("_out"), n.fresh("_v")
	g.Id(out).Op(":=").Make(mapType(), jen.Len(jen.Id(r)))
	g.For(jen.List(jen.Id("_"), jen.Id(v)).Op(":=").Range().Id(r)).BlockFunc(func(b *jen.Group) {
		if each.Nillable {
			b.If(jen.Id(v).Op("==").Nil()).Block(jen.Continue())
		}
		sel := jen.Id(v)
		for i, f := range each.Field {
			sel.Dot(f)
			if each.Calls[i] {
				sel.Call()
			}
		}
		b.Id(out).Index(sel).Op("=").Id(v)
	})
	g.Return(jen.Id(out), jen.Nil())
}

// elementDeps returns deps with the segments that name the batch parameter
// param naming the element variable id instead.
func elementDeps(deps []*model.Dep, param, id string) []*model.Dep {
	out := make([]*model.Dep, len(deps))
	for i, d := range deps {
		nd := &model.Dep{Template: d.Template}
		for _, s := range d.Segments {
			if s.Param == param && s.Result == 0 {
				cp := *s
				cp.Param = id
				s = &cp
			}
			nd.Segments = append(nd.Segments, s)
		}
		out[i] = nd
	}
	return out
}
