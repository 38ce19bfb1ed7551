package generator

import (
	"go/ast"
	goparser "go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/packages"
)

func (p *parser) isGeneratedFile(f *ast.File) bool {
	return len(f.Comments) > 0 && len(f.Comments[0].List) > 0 &&
		f.Comments[0].List[0].Text == Header && f.Comments[0].Pos() < f.Package
}

// collectAnnotations records the //zoo: comments of interface methods in f
// and reports those anywhere else.
func (p *parser) collectAnnotations(f *ast.File) {
	attached := map[*ast.Comment]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		it, ok := n.(*ast.InterfaceType)
		if !ok {
			return true
		}
		for _, field := range it.Methods.List {
			if _, isFunc := field.Type.(*ast.FuncType); !isFunc || len(field.Names) == 0 || field.Doc == nil {
				continue
			}
			name := field.Names[0]
			for _, c := range field.Doc.List {
				if !strings.HasPrefix(c.Text, annotationPrefix) {
					continue
				}
				attached[c] = true
				if a := p.parseAnnotation(c.Text, p.pos(c.Slash), name.Name); a != nil {
					p.annotations[name.Pos()] = append(p.annotations[name.Pos()], a)
				} else {
					p.annotations[name.Pos()] = append(p.annotations[name.Pos()], nil) // annotated, but wrongly
				}
			}
		}
		return true
	})
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, annotationPrefix) && !attached[c] {
				p.errorf(p.pos(c.Slash), "", "%s is not in the doc comment of an interface method", firstWord(c.Text))
			}
		}
	}
}

func firstWord(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// declaredNames returns the package-level names the package declares in
// every Go file of its directory, test files included, except zoogen's own.
func (p *parser) declaredNames(dir string, pkg *packages.Package) *namer {
	taken := &namer{}
	entries, _ := os.ReadDir(dir)
	fset := token.NewFileSet()
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if isGenerated(path) {
			continue
		}
		f, err := goparser.ParseFile(fset, path, nil, goparser.SkipObjectResolution)
		if err != nil {
			continue
		}
		if f.Name.Name != pkg.Name && f.Name.Name != pkg.Name+"_test" {
			continue
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					taken.reserve(d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						taken.reserve(s.Name.Name)
					case *ast.ValueSpec:
						for _, n := range s.Names {
							taken.reserve(n.Name)
						}
					}
				}
			}
		}
	}
	return taken
}
