package generator

import (
	"go/ast"
	goparser "go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGeneratedCodeReadsWell checks what a reviewer of the generated files
// of every golden case would ask for: imports grouped as goimports does,
// the constructor filling the struct's fields in their declared order and
// no field that nothing reads, doc comments that name the right things
// with the right article and fit in commentWidth, and parameters grouped
// as the interface declares them.
func TestGeneratedCodeReadsWell(t *testing.T) {
	for _, name := range cases(t) {
		dir := filepath.Join(testdata, name)
		paths, err := filepath.Glob(filepath.Join(dir, "*_zoo.go"))
		require.NoError(t, err)
		if len(paths) == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			fset := token.NewFileSet()
			ifaces := interfaceParams(t, fset, dir)
			for _, path := range paths {
				src, err := os.ReadFile(path)
				require.NoError(t, err)
				f, err := goparser.ParseFile(fset, path, src, goparser.ParseComments)
				require.NoError(t, err)
				rel := filepath.Base(path)
				checkImports(t, fset, rel, f)
				checkCommentWidth(t, rel, string(src))
				checkDecorators(t, rel, f, string(src), ifaces)
			}
		})
	}
}

// checkImports: the standard library first, then a blank line, then the
// others.
func checkImports(t *testing.T, fset *token.FileSet, rel string, f *ast.File) {
	isStd := func(spec *ast.ImportSpec) bool {
		path, _ := strconv.Unquote(spec.Path.Value)
		return !strings.Contains(strings.Split(path, "/")[0], ".")
	}
	for i := 1; i < len(f.Imports); i++ {
		prev, cur := f.Imports[i-1], f.Imports[i]
		assert.False(t, !isStd(prev) && isStd(cur), "%s: %s after %s", rel, cur.Path.Value, prev.Path.Value)
		if isStd(prev) && !isStd(cur) {
			assert.Greater(t, fset.Position(cur.Pos()).Line, fset.Position(prev.Pos()).Line+1,
				"%s: no blank line between the standard library and %s", rel, cur.Path.Value)
		}
	}
}

// checkCommentWidth: comment lines fit in commentWidth columns, but for
// the annotation quoted on its own line.
func checkCommentWidth(t *testing.T, rel, src string) {
	for i, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, "//") && !strings.HasPrefix(line, "// Annotation: //zoo:") {
			assert.LessOrEqual(t, len(line), commentWidth, "%s:%d: comment too long: %s", rel, i+1, line)
		}
	}
}

// checkDecorators checks each decorator struct of f against its
// constructor, doc comments and methods.
func checkDecorators(t *testing.T, rel string, f *ast.File, src string, ifaces map[string]map[string][]int) {
	structs := map[string][]string{} // decorator → its fields
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok || !strings.HasPrefix(ts.Name.Name, "Cached") {
			return false
		}
		iface := strings.TrimPrefix(ts.Name.Name, "Cached")
		for _, fl := range st.Fields.List {
			for _, n := range fl.Names {
				structs[ts.Name.Name] = append(structs[ts.Name.Name], n.Name)
				read := strings.Contains(src, "."+n.Name+".") || strings.Contains(src, "."+n.Name+",") // a call, or an argument (zoo.Batch)
				assert.True(t, read, "%s: field %s of %s is never read", rel, n.Name, ts.Name.Name)
			}
		}
		want := "// " + ts.Name.Name + " is " + article(iface) + " " + iface + " that"
		assert.True(t, strings.Contains(src, want), "%s: doc comment of %s does not start %q", rel, ts.Name.Name, want)
		want = "// NewCached" + iface + " returns a *" + ts.Name.Name + " that"
		assert.True(t, strings.Contains(src, want), "%s: doc comment of NewCached%s does not start %q", rel, iface, want)
		return false
	})
	for _, decl := range f.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		if !ok {
			continue
		}
		if fd.Recv == nil {
			deco := strings.TrimPrefix(fd.Name.Name, "New")
			fields, ok := structs[deco]
			if !ok {
				continue
			}
			var keys []string
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if cl, ok := n.(*ast.CompositeLit); ok && keys == nil {
					for _, elt := range cl.Elts {
						keys = append(keys, elt.(*ast.KeyValueExpr).Key.(*ast.Ident).Name)
					}
					return false
				}
				return true
			})
			assert.Equal(t, fields, keys, "%s: %s fills the fields in another order than %s declares them", rel, fd.Name.Name, deco)
			continue
		}
		recv := fd.Recv.List[0].Type
		if star, ok := recv.(*ast.StarExpr); ok {
			recv = star.X
		}
		if ix, ok := recv.(*ast.IndexExpr); ok {
			recv = ix.X
		}
		if ix, ok := recv.(*ast.IndexListExpr); ok {
			recv = ix.X
		}
		id, ok := recv.(*ast.Ident)
		if !ok {
			continue
		}
		if want, ok := ifaces[strings.TrimPrefix(id.Name, "Cached")][fd.Name.Name]; ok {
			assert.Equal(t, want, fieldSizes(fd.Type), "%s: %s.%s groups its parameters otherwise than the interface", rel, id.Name, fd.Name.Name)
		}
	}
}

// interfaceParams returns, for each interface method declared in the
// package's own files, how many names each field of its parameter list
// holds ([1 3] for (ctx context.Context, oid, sid, pid int64)).
func interfaceParams(t *testing.T, fset *token.FileSet, dir string) map[string]map[string][]int {
	out := map[string]map[string][]int{}
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	for _, path := range paths {
		if strings.HasSuffix(path, "_zoo.go") || strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := goparser.ParseFile(fset, path, nil, goparser.SkipObjectResolution)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			it, ok := ts.Type.(*ast.InterfaceType)
			if !ok {
				return true
			}
			out[ts.Name.Name] = map[string][]int{}
			for _, m := range it.Methods.List {
				if ft, ok := m.Type.(*ast.FuncType); ok && len(m.Names) > 0 {
					out[ts.Name.Name][m.Names[0].Name] = fieldSizes(ft)
				}
			}
			return true
		})
	}
	return out
}

// fieldSizes returns how many names each parameter field of ft holds,
// unnamed fields counting one.
func fieldSizes(ft *ast.FuncType) []int {
	var sizes []int
	for _, fl := range ft.Params.List {
		sizes = append(sizes, max(1, len(fl.Names)))
	}
	return sizes
}

func TestArticle(t *testing.T) {
	for word, want := range map[string]string{
		"ArticleRepository": "an", "ProductRepo": "a", "*AppError": "an", "*CachedRepo": "a",
		"Users": "an", "inventory": "an", "": "a",
	} {
		assert.Equal(t, want, article(word), word)
	}
}
