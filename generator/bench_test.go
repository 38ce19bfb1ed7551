package generator

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeBigPackage writes a module with one package of n interfaces of m
// annotated methods each, the size of a large service's data layer.
func writeBigPackage(tb testing.TB, n, m int) string {
	tb.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	gomod, err := os.ReadFile(filepath.Join(root, "testdata", "go.mod"))
	if err != nil {
		tb.Fatal(err)
	}
	gomod = bytes.Replace(gomod, []byte("=> ../"), []byte("=> "+root), 1)
	sum, _ := os.ReadFile(filepath.Join(root, "testdata", "go.sum"))
	var src bytes.Buffer
	src.WriteString("package big\n\nimport \"context\"\n\ntype Row struct{ ID, OrgID int64; Name string }\n")
	for i := range n {
		fmt.Fprintf(&src, "\ntype Repo%d interface {\n", i)
		for j := range m {
			switch j % 3 {
			case 0:
				fmt.Fprintf(&src, "\t//zoo:cache deps=\"org:<oid>:row:<id>\" ttl=%dm\n\tGet%d(ctx context.Context, oid, id int64) (*Row, error)\n", j+1, j)
			case 1:
				fmt.Fprintf(&src, "\t//zoo:cache deps=\"org:<q.OrgID>:rows\"\n\tList%d(ctx context.Context, q Row, limit int) ([]Row, int, error)\n", j)
			default:
				fmt.Fprintf(&src, "\t//zoo:invalidate deps=\"org:<r.OrgID>:row:<r.ID>\"\n\tSave%d(ctx context.Context, r Row) error\n", j)
			}
		}
		src.WriteString("}\n")
	}
	for name, content := range map[string][]byte{"go.mod": gomod, "go.sum": sum, "big/big.go": src.Bytes()} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return filepath.Join(dir, "big")
}

// BenchmarkGenerate50x10 times a whole run (load, parse, emit) on a package
// of 50 interfaces with 10 annotated methods each.
func BenchmarkGenerate50x10(b *testing.B) {
	dir := writeBigPackage(b, 50, 10)
	for b.Loop() {
		results, err := Generate(Config{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if len(results) != 1 {
			b.Fatalf("%d results", len(results))
		}
	}
}
