package generator

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the generated files and errors.txt of testdata")

// testdata is the module of golden cases: each directory is a package with
// the *_zoo.go files zoogen generates for it, or an errors.txt with the
// problems it reports.
const testdata = "../testdata"

func cases(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(testdata)
	require.NoError(t, err)
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	require.NotEmpty(t, dirs)
	return dirs
}

// TestGolden runs the generator on every case and compares what it would
// write with the committed files. go test ./generator -update rewrites them.
func TestGolden(t *testing.T) {
	for _, name := range cases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(testdata, name)
			errorsFile := filepath.Join(dir, "errors.txt")
			var warnings strings.Builder
			results, err := Generate(Config{Dir: dir, Warn: func(w *Error) { warnings.WriteString(w.Error() + "\n") }})
			compareWarnings(t, dir, warnings.String())
			if err != nil {
				var errs Errors
				require.True(t, errors.As(err, &errs), "not a list of input problems: %v", err)
				got := err.Error() + "\n"
				if *update {
					require.NoError(t, os.WriteFile(errorsFile, []byte(got), 0o644))
				}
				want, rerr := os.ReadFile(errorsFile)
				require.NoError(t, rerr, "zoogen reported problems, and the case has no errors.txt:\n%s", got)
				assert.Equal(t, string(want), got, "problems differ from %s", errorsFile)
				return
			}
			_, statErr := os.Stat(errorsFile)
			require.True(t, os.IsNotExist(statErr), "%s lists problems, but zoogen reported none", errorsFile)
			require.NotEmpty(t, results, "nothing generated")
			if *update {
				_, err := Write(results)
				require.NoError(t, err)
			}
			for _, r := range results {
				rel, _ := filepath.Rel(dir, r.Path)
				if r.Content == nil {
					t.Errorf("%s is a stale generated file: remove it, or run with -update", rel)
					continue
				}
				want, err := os.ReadFile(r.Path)
				require.NoError(t, err, "%s is not committed; run go test ./generator -update", rel)
				assert.Equal(t, string(want), string(r.Content), "%s differs from what zoogen generates; run go test ./generator -update", rel)
			}
			assert.Empty(t, Check(results), "Check disagrees with the comparison")
		})
	}
}

// compareWarnings compares the warnings of a case with its warnings.txt,
// which lists them one a line; a case without one has none. -update
// rewrites (or removes) the file.
func compareWarnings(t *testing.T, dir, got string) {
	t.Helper()
	file := filepath.Join(dir, "warnings.txt")
	if *update {
		if got == "" {
			if err := os.Remove(file); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		} else {
			require.NoError(t, os.WriteFile(file, []byte(got), 0o644))
		}
	}
	want, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		assert.Empty(t, got, "zoogen warned, and the case has no warnings.txt")
		return
	}
	require.NoError(t, err)
	assert.Equal(t, string(want), got, "warnings differ from %s", file)
}

// TestGoldenBuildAndRun compiles the golden cases in their own module, vets
// them, and runs their tests, which drive the generated decorators over
// fake repositories and count the calls that reach them.
func TestGoldenBuildAndRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	for _, args := range [][]string{{"vet", "./..."}, {"test", "-race", "-count=1", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = testdata
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s in testdata:\n%s", strings.Join(args, " "), out)
	}
}
