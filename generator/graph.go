package generator

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// GraphFormat is how [Graph] prints the dependency graph.
type GraphFormat string

const (
	// GraphText is plain text, for a terminal or a pull request.
	GraphText GraphFormat = "text"
	// GraphDot is Graphviz dot: zoogen -graph=dot | dot -Tsvg.
	GraphDot GraphFormat = "dot"
)

// Graph loads the packages matched by patterns, as [Generate] does, and
// returns their dependency graph in format: for each write
// (//zoo:invalidate), the cached reads each of its tags expires and
// through which prefix of their tags; then the cached reads that no write
// of their package invalidates, which only their TTL or an explicit
// Invalidate refreshes. It writes nothing.
//
// A write's tag expires a read's tag when it is a prefix of it, segment by
// segment (invalidating org:1 expires org:1:product:2): two text segments
// must be equal, and a <reference> matches any segment, since its value is
// known only at run time. For a batch read (each=) it says whether a tag
// expires one element per value (the prefix reaches the element's
// segment) or every element under it. The graph is therefore what may be expired; tags
// added while loading (zoo.AddDeps) and Invalidate calls are not in it.
func Graph(cfg Config, format GraphFormat, patterns ...string) ([]byte, error) {
	if format != GraphText && format != GraphDot {
		return nil, fmt.Errorf("zoogen: unknown graph format %q (want %s or %s)", format, GraphText, GraphDot)
	}
	mpkgs, _, err := buildModel(cfg, patterns, &scanner{})
	if err != nil {
		return nil, err
	}
	graphs := make([]*depGraph, 0, len(mpkgs))
	for _, pkg := range mpkgs {
		graphs = append(graphs, graphOf(pkg))
	}
	slices.SortFunc(graphs, func(a, b *depGraph) int { return cmp.Compare(a.pkg, b.pkg) })
	if format == GraphDot {
		return graphDot(graphs), nil
	}
	return graphText(graphs), nil
}

// depGraph is the dependency graph of one package.
type depGraph struct {
	pkg    string        // import path
	writes []*graphWrite // in source order
	reads  []*graphRead  // every cached read, in source order
}

// graphRead is a cached method.
type graphRead struct {
	name        string // Interface.Method
	deps        []*model.Dep
	each        string // the batch parameter of a batch read (each=), or ""
	invalidated bool   // some write of the package expires it
}

// graphWrite is an invalidating method.
type graphWrite struct {
	name string
	tags []*graphTag
}

// graphTag is one tag a write invalidates and the reads it expires.
type graphTag struct {
	dep     *model.Dep
	expires []graphEdge
}

// graphEdge is a read a write's tag expires, through a prefix of one of
// the read's tags.
type graphEdge struct {
	read    *graphRead
	through string     // the prefix of the read's tag, as the read spells it
	tag     *model.Dep // the read's tag
}

// graphOf builds the graph of pkg.
func graphOf(pkg *model.Package) *depGraph {
	g := &depGraph{pkg: pkg.Path}
	var writes []*model.Method
	for _, f := range pkg.Files {
		for _, it := range f.Interfaces {
			for _, m := range it.Methods {
				name := it.Name + "." + m.Name
				switch m.Kind {
				case model.Cache:
					r := &graphRead{name: name, deps: m.Deps}
					if m.Each != nil {
						r.each = m.Each.Param
					}
					g.reads = append(g.reads, r)
				case model.Invalidate:
					g.writes = append(g.writes, &graphWrite{name: name})
					writes = append(writes, m)
				}
			}
		}
	}
	for i, w := range g.writes {
		for _, dep := range writes[i].Deps {
			t := &graphTag{dep: dep}
			for _, r := range g.reads {
				for _, rdep := range r.deps {
					if n, ok := expires(dep, rdep); ok {
						t.expires = append(t.expires, graphEdge{read: r, through: prefix(rdep, n), tag: rdep})
						r.invalidated = true
					}
				}
			}
			w.tags = append(w.tags, t)
		}
	}
	return g
}

// label names a read in the graph: Interface.Method, and each=<param> for a
// batch read.
func (r *graphRead) label() string {
	if r.each == "" {
		return r.name
	}
	return r.name + " each=" + r.each
}

// elements says which elements of a batch read an edge expires: one
// element per value of the write's tag when the prefix reaches the
// element's segment, every element under it otherwise; "" for other
// reads.
func (e graphEdge) elements() string {
	if e.read.each == "" {
		return ""
	}
	n := strings.Count(e.through, ":") + 1
	for i, s := range e.tag.Segments {
		if i < n && s.Param == e.read.each && s.Result == 0 {
			return fmt.Sprintf(", per element of %s", e.read.each)
		}
	}
	return fmt.Sprintf(", every element of %s under it", e.read.each)
}

// expires reports whether invalidating a tag of template w expires an
// entry with a tag of template r: w's segments are a prefix of r's, each
// pair equal text or one of them a reference. It returns the length of
// the prefix, in segments.
func expires(w, r *model.Dep) (int, bool) {
	if len(w.Segments) == 0 || len(w.Segments) > len(r.Segments) {
		return 0, false
	}
	for i, ws := range w.Segments {
		rs := r.Segments[i]
		if !ws.IsParam() && !rs.IsParam() && ws.Text != rs.Text {
			return 0, false
		}
	}
	return len(w.Segments), true
}

// prefix returns the first n segments of the template of dep, as written.
func prefix(dep *model.Dep, n int) string {
	segs := strings.Split(dep.Template, ":")
	if n >= len(segs) {
		return dep.Template
	}
	return strings.Join(segs[:n], ":")
}

// uninvalidated returns the reads of g that no write expires.
func (g *depGraph) uninvalidated() []*graphRead {
	var out []*graphRead
	for _, r := range g.reads {
		if !r.invalidated {
			out = append(out, r)
		}
	}
	return out
}

// templates spells the tags of deps for the graph: "a, b", or "no tags".
func templates(deps []*model.Dep) string {
	if len(deps) == 0 {
		return "no tags"
	}
	s := make([]string, len(deps))
	for i, d := range deps {
		s[i] = d.Template
	}
	return strings.Join(s, ", ")
}

// graphText prints graphs as text.
func graphText(graphs []*depGraph) []byte {
	var b bytes.Buffer
	for i, g := range graphs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "package %s\n", g.pkg)
		for _, w := range g.writes {
			fmt.Fprintf(&b, "\nwrite %s\n", w.name)
			for _, t := range w.tags {
				fmt.Fprintf(&b, "  invalidates %s\n", t.dep.Template)
				if len(t.expires) == 0 {
					b.WriteString("    expires no cached read\n")
				}
				for _, e := range t.expires {
					fmt.Fprintf(&b, "    expires %s through %s", e.read.name, e.through)
					if e.through != e.tag.Template {
						fmt.Fprintf(&b, " (of %s)", e.tag.Template)
					}
					b.WriteString(e.elements())
					b.WriteString("\n")
				}
			}
		}
		if len(g.writes) == 0 {
			b.WriteString("\nno write\n")
		}
		if un := g.uninvalidated(); len(un) > 0 {
			b.WriteString("\nnot invalidated by any write (only their TTL or an explicit Invalidate refreshes them):\n")
			for _, r := range un {
				fmt.Fprintf(&b, "  %s (%s)\n", r.label(), templates(r.deps))
			}
		}
	}
	return b.Bytes()
}

// graphDot prints graphs as one Graphviz digraph, a cluster per package:
// writes are grey boxes, reads ellipses, reads no write invalidates red;
// an edge from a write to a read is labelled with the write's tag.
func graphDot(graphs []*depGraph) []byte {
	var b bytes.Buffer
	b.WriteString("digraph zoogen {\n\trankdir=LR;\n\tnode [fontname=\"Helvetica\"];\n\tedge [fontname=\"Helvetica\", fontsize=10];\n")
	for i, g := range graphs {
		id := func(name string) string { return dotQuote(g.pkg + "." + name) }
		fmt.Fprintf(&b, "\n\tsubgraph %s {\n\t\tlabel=%s;\n", dotQuote(fmt.Sprintf("cluster_%d", i)), dotQuote(g.pkg))
		for _, w := range g.writes {
			label := w.name
			if !slices.ContainsFunc(w.tags, func(t *graphTag) bool { return len(t.expires) > 0 }) {
				label += "\nexpires no cached read"
			}
			fmt.Fprintf(&b, "\t\t%s [label=%s, shape=box, style=filled, fillcolor=\"#e8e8e8\"];\n", id(w.name), dotQuote(label))
		}
		for _, r := range g.reads {
			if r.invalidated {
				fmt.Fprintf(&b, "\t\t%s [label=%s, shape=ellipse];\n", id(r.name), dotQuote(r.label()+"\n"+templates(r.deps)))
			} else {
				fmt.Fprintf(&b, "\t\t%s [label=%s, shape=ellipse, color=red, fontcolor=red];\n", id(r.name),
					dotQuote(r.label()+"\n"+templates(r.deps)+"\nnot invalidated by any write"))
			}
		}
		for _, w := range g.writes {
			drawn := map[[2]string]bool{} // read, tag: a read with two tags under one write's tag has one edge
			for _, t := range w.tags {
				for _, e := range t.expires {
					if k := [2]string{e.read.name, t.dep.Template}; !drawn[k] {
						drawn[k] = true
						fmt.Fprintf(&b, "\t\t%s -> %s [label=%s];\n", id(w.name), id(e.read.name), dotQuote(t.dep.Template))
					}
				}
			}
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// dotQuote returns s as a dot quoted string: quotes and backslashes
// escaped, newlines as \n (a centred line break).
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
