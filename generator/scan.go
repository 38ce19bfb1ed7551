package generator

import (
	"fmt"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/tools/go/packages"
)

// isGeneratedFile reports whether f is zoogen's own generated file: a
// comment line before its package clause is [Header]. It is the one test
// of "generated"; the scanner applies it to the files it parses, the
// parser to the syntax packages.Load returns.
func isGeneratedFile(f *ast.File) bool {
	for _, cg := range f.Comments {
		if cg.Pos() >= f.Package {
			break
		}
		for _, c := range cg.List {
			if c.Text == Header {
				return true
			}
		}
	}
	return false
}

// scannedFile is what the scanner learnt of one Go file.
type scannedFile struct {
	path      string // absolute
	pkgName   string // the name in its package clause; "" when it has none
	generated bool   // isGeneratedFile
	// names are the package-level names the file declares (types,
	// functions, variables and constants, not the blank identifier); nil
	// when it does not parse.
	names []string
	// ifaces are the interface types the file declares.
	ifaces []*scannedIface
}

// scannedIface is what the scanner learnt of one interface declaration,
// from its syntax alone: enough to tell, before type checking, whether
// zoogen may generate a decorator for it and what that declares.
type scannedIface struct {
	name      string
	annotated bool     // a method's doc comment holds a //zoo: line
	embeds    []string // the interfaces it embeds, pkg.Name when qualified
	methods   []string // its own methods
	// start and end bound the declaration (line and column of its name,
	// and of the end of its type).
	start, end token.Position
}

// scanner reads the Go files of package directories on its own, apart from
// packages.Load, which sees only the files of one build: it parses each
// file once and remembers it for the rest of the run. The zero value is
// ready to use; it is not safe for concurrent use.
type scanner struct {
	dirs map[string][]*scannedFile // absolute directory → its files, by name
}

// dir returns the Go files of the directory, test files included, in
// name order. A directory that cannot be read has none.
func (s *scanner) dir(dir string) []*scannedFile {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if files, ok := s.dirs[dir]; ok {
		return files
	}
	var files []*scannedFile
	entries, _ := os.ReadDir(dir)
	fset := token.NewFileSet()
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		files = append(files, scanFile(fset, filepath.Join(dir, e.Name())))
	}
	if s.dirs == nil {
		s.dirs = map[string][]*scannedFile{}
	}
	s.dirs[dir] = files
	return files
}

// file returns the scan of the Go file at path, or nil if there is none.
func (s *scanner) file(path string) *scannedFile {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	files := s.dir(filepath.Dir(path))
	if i, ok := slices.BinarySearchFunc(files, path, func(f *scannedFile, path string) int {
		return strings.Compare(f.path, path)
	}); ok {
		return files[i]
	}
	return nil
}

// isGenerated reports whether the file at path is zoogen's generated file.
func (s *scanner) isGenerated(path string) bool {
	f := s.file(path)
	return f != nil && f.generated
}

// scanFile parses the file at path. A file that does not parse still says
// whether it is generated, from what precedes the error.
func scanFile(fset *token.FileSet, path string) *scannedFile {
	sf := &scannedFile{path: path}
	f, err := goparser.ParseFile(fset, path, nil, goparser.ParseComments|goparser.SkipObjectResolution)
	if f == nil {
		return sf
	}
	if f.Name != nil {
		sf.pkgName = f.Name.Name
	}
	sf.generated = isGeneratedFile(f)
	if err != nil {
		return sf
	}
	sf.names = []string{}
	declare := func(id *ast.Ident) {
		if id.Name != "_" {
			sf.names = append(sf.names, id.Name)
		}
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				declare(d.Name)
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					declare(s.Name)
					if it, ok := s.Type.(*ast.InterfaceType); ok {
						sf.ifaces = append(sf.ifaces, scanIface(fset, s, it))
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						declare(n)
					}
				}
			}
		}
	}
	return sf
}

// scanIface records the syntax of the interface ts declares.
func scanIface(fset *token.FileSet, ts *ast.TypeSpec, it *ast.InterfaceType) *scannedIface {
	si := &scannedIface{name: ts.Name.Name, start: fset.Position(ts.Name.Pos()), end: fset.Position(ts.End())}
	for _, field := range it.Methods.List {
		switch t := field.Type.(type) {
		case *ast.FuncType:
			for _, n := range field.Names {
				si.methods = append(si.methods, n.Name)
			}
			if field.Doc != nil {
				for _, c := range field.Doc.List {
					si.annotated = si.annotated || strings.HasPrefix(c.Text, annotationPrefix)
				}
			}
		case *ast.Ident:
			si.embeds = append(si.embeds, t.Name)
		case *ast.SelectorExpr:
			if x, ok := t.X.(*ast.Ident); ok {
				si.embeds = append(si.embeds, x.Name+"."+t.Sel.Name)
			}
		}
	}
	return si
}

// collectAnnotations records the //zoo: comments of interface methods in f
// and reports those anywhere else, and near misses. It records the syntax
// of every interface method too.
func (p *parser) collectAnnotations(f *ast.File) {
	attached := map[*ast.Comment]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		it, ok := n.(*ast.InterfaceType)
		if !ok {
			return true
		}
		for _, field := range it.Methods.List {
			if ft, isFunc := field.Type.(*ast.FuncType); isFunc && len(field.Names) > 0 {
				p.funcTypes[field.Names[0].Pos()] = ft
			}
			if _, isFunc := field.Type.(*ast.FuncType); !isFunc || len(field.Names) == 0 || field.Doc == nil {
				continue
			}
			name := field.Names[0]
			for _, c := range field.Doc.List {
				if !strings.HasPrefix(c.Text, annotationPrefix) || nearMiss(c.Text) != "" {
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
			if why := nearMiss(c.Text); why != "" {
				p.errorf(p.pos(c.Slash), "", "%s", why)
				continue
			}
			if strings.HasPrefix(c.Text, annotationPrefix) && !attached[c] {
				p.errorf(p.pos(c.Slash), "", "%s is not in the doc comment of an interface method", firstWord(c.Text))
			}
		}
	}
}

// nearMiss returns why the comment text, which is not an annotation, looks
// like one someone meant to write, or "" when it does not: "// zoo:cache"
// (a space after //), "//zoo: cache" (a space after the colon), and
// "/* zoo:cache */" (a block comment) are read by nobody, so the method
// would silently pass through. It must be zoo: followed by a verb or a
// near miss of one (suggest's rule), so that prose such as "// zoo: the
// package's own zoo" is left alone.
func nearMiss(text string) string {
	block := strings.HasPrefix(text, "/*")
	body := strings.TrimSuffix(text[2:], "*/")
	trimmed := strings.TrimLeftFunc(body, unicode.IsSpace)
	rest, ok := strings.CutPrefix(trimmed, "zoo:")
	if !ok {
		return ""
	}
	after := strings.TrimLeftFunc(rest, unicode.IsSpace)
	word := after
	if i := strings.IndexFunc(after, unicode.IsSpace); i >= 0 {
		word = after[:i]
	}
	verb := word
	if _, ok := verbs[word]; !ok {
		verb = closest(word, verbNames)
	}
	lead, gap := len(trimmed) < len(body), len(after) < len(rest)
	if verb == "" || !block && !lead && !gap {
		return "" // not meant as one, or an annotation (parseAnnotation checks its verb)
	}
	// The comment up to the verb, each run of spaces one space.
	quoted := text[:2]
	if lead {
		quoted += " "
	}
	quoted += "zoo:"
	if gap {
		quoted += " "
	}
	quoted += word
	switch {
	case block && strings.TrimSpace(after[len(word):]) == "":
		quoted += " */"
	case block:
		quoted += " ... */"
	}
	why := "no space after //"
	switch {
	case block:
		why = "annotations are // line comments"
	case lead && gap:
		why = "no space after // or after the colon"
	case gap:
		why = "no space after the colon"
	}
	return fmt.Sprintf("%q is not an annotation: write %s%s (%s)", quoted, annotationPrefix, verb, why)
}

// firstWord returns s up to its first space or tab.
func firstWord(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// declaredNames returns a namer holding the package-level names the
// package declares in every Go file of its directory, test files included,
// except zoogen's own.
func (p *parser) declaredNames(dir string, pkg *packages.Package) *namer {
	names := &namer{}
	for _, f := range p.scan.dir(dir) {
		if !f.generated && (f.pkgName == pkg.Name || f.pkgName == pkg.Name+"_test") {
			names.reserve(f.names...)
		}
	}
	return names
}
