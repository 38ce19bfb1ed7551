package generator

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReporterReportsEachProblemOnce: the same position, method and
// message is one problem; any difference makes another. Problems come out
// sorted by position, unpositioned ones first.
func TestReporterReportsEachProblemOnce(t *testing.T) {
	var r reporter
	require.Nil(t, r.sorted(), "no problems")
	at := func(line, col int) Pos { return Pos{File: "repo.go", Line: line, Col: col} }
	r.errorf(at(9, 2), "Get", "deps %q: empty tag", "a,")
	r.errorf(at(3, 4), "List", "bad")
	r.errorf(at(9, 2), "Get", "deps %q: empty tag", "a,") // the method again, through a second interface
	r.add(&Error{Pos: at(9, 2), Method: "Get", Msg: `deps "a,": empty tag`})
	r.errorf(at(9, 2), "Find", "deps %q: empty tag", "a,")
	r.errorf(Pos{}, "", "no packages match ./x")
	r.errorf(at(3, 4), "List", "bad")
	assert.Equal(t, strings.Join([]string{
		"no packages match ./x",
		"repo.go:3:4: List: bad",
		`repo.go:9:2: Get: deps "a,": empty tag`,
		`repo.go:9:2: Find: deps "a,": empty tag`,
	}, "\n"), r.sorted().Error())
}

// TestSplitPos reads the positions packages.Error carries.
func TestSplitPos(t *testing.T) {
	type pos struct {
		file      string
		line, col int
	}
	for in, want := range map[string]pos{
		"/src/repo.go:12:3":    {"/src/repo.go", 12, 3},
		"repo.go:12":           {"repo.go", 12, 0},
		`C:\src\repo.go:12:3`:  {`C:\src\repo.go`, 12, 3},
		"/src/odd:name.go:1:2": {"/src/odd:name.go", 1, 2},
		"/src/repo.go":         {"/src/repo.go", 0, 0},
		"-":                    {},
		"":                     {},
	} {
		file, line, col := splitPos(in)
		assert.Equal(t, want, pos{file, line, col}, in)
	}
}

// TestLoadErrorsArePositionedAndSorted: problems packages.Load reports
// carry their position in Pos, relative to Config.Dir, not in the message,
// and sort with the rest by file, line and column, whatever order the type
// checker found them in (package-level declarations before function
// bodies). Outside annotated interfaces they are warnings, each given to
// Config.Warn once.
func TestLoadErrorsArePositionedAndSorted(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"go.mod": "module loaderrors.test\n\ngo 1.24\n",
		"a.go":   "package p\n\nfunc f() {\n\tvar x int = \"one\"\n\t_ = x\n}\n",
		"b.go":   "package p\n\nvar y int = \"two\"\n\nvar z string = 3\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644))
	}
	var errs Errors
	_, err := Generate(Config{Dir: dir, Warn: func(w *Error) { errs = append(errs, w) }})
	require.NoError(t, err)
	var got []string
	for _, e := range errs {
		assert.NotContains(t, e.Msg, ".go:", "position left in the message")
		got = append(got, e.Pos.String())
	}
	assert.Equal(t, []string{"a.go:4:14", "b.go:3:13", "b.go:5:16"}, got, "%v", errs)
	assert.True(t, slices.IsSortedFunc(errs, func(a, b *Error) int { return strings.Compare(a.Pos.String(), b.Pos.String()) }))
}

// TestLoadProblemReportedOnce: the type checker reports a problem's
// details as a problem of their own, and the go command reports it again
// as compiler output; zoogen reports it once, details included.
func TestLoadProblemReportedOnce(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"go.mod": "module loaderrors.test\n\ngo 1.24\n",
		"repo.go": "package p\n\nimport \"context\"\n\ntype Repo interface {\n\t//zoo:cache\n" +
			"\tGet(ctx context.Context, id int64) (string, error)\n\tGet(ctx context.Context) error\n}\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644))
	}
	_, err := Generate(Config{Dir: dir, Warn: func(w *Error) { t.Errorf("warning: %v", w) }})
	var errs Errors
	require.True(t, errors.As(err, &errs), "not a list of input problems: %v", err)
	require.Len(t, errs, 1, "%v", err)
	assert.Equal(t, "repo.go:8:2", errs[0].Pos.String())
	assert.Contains(t, errs[0].Msg, "duplicate method Get")
	assert.Contains(t, errs[0].Msg, "other declaration of method Get")
}
