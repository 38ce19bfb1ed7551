package generator

import (
	"maps"
	"path/filepath"
	"slices"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// RuntimePath is the import path of the package generated code calls.
const RuntimePath = "github.com/zoogen/zoogen/runtime"

// chooseImports names the packages generated code imports: the package's
// own name for each, unless that clashes with a package-level name or a
// parameter of a decorated method, in which case names allocates a variant
// that does not.
func (p *parser) chooseImports(m *model.Package, names *namer) {
	paths := map[string]string{RuntimePath: "runtime", "context": "context", "errors": "errors", "time": "time"}
	collect := func(t model.Type) {
		model.Walk(t, func(t model.Type) {
			if n, ok := t.(*model.Named); ok && n.Pkg != "" && n.Pkg != m.Path {
				paths[n.Pkg] = p.pkgName(n.Pkg)
			}
		})
	}
	for _, f := range m.Files {
		for _, iface := range f.Interfaces {
			for _, tp := range iface.TypeParams {
				collect(tp.Constraint)
			}
			for _, meth := range iface.Methods {
				for _, param := range meth.Params {
					collect(param.Type)
				}
				for _, r := range meth.Results {
					collect(r)
				}
				if meth.Error != nil {
					collect(meth.Error.Type)
				}
				for _, e := range meth.CacheErrors {
					if e.Pkg != m.Path {
						paths[e.Pkg] = p.pkgName(e.Pkg)
					}
				}
			}
		}
	}
	// A parameter, or a type parameter, named like an import would hide it
	// inside the generated method: those names are taken too.
	for _, f := range m.Files {
		for _, iface := range f.Interfaces {
			for _, tp := range iface.TypeParams {
				names.reserve(tp.Name)
			}
			for _, meth := range iface.Methods {
				if meth.Context != "" {
					names.reserve(meth.Context)
				}
				for _, param := range meth.Params {
					names.reserve(param.Name)
				}
			}
		}
	}
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		base := paths[path]
		if path == RuntimePath {
			base = "zoo" // the name the documentation uses
		}
		name := names.fresh(base)
		m.Imports = append(m.Imports, &model.Import{Path: path, Name: name, Alias: name != paths[path]})
	}
}

// pkgName returns the name of the package at path.
func (p *parser) pkgName(path string) string {
	if name, ok := p.pkgNames[path]; ok {
		return name
	}
	return filepath.Base(path)
}
