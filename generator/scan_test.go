package generator

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScannerTellsGeneratedFilesAndNames: one parse of each file says
// whether zoogen generated it (the header before the package clause, and
// only there) and which package-level names it declares.
func TestScannerTellsGeneratedFilesAndNames(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a_zoo.go":     Header + "\n\npackage p\n\ntype CachedRepo struct{}\n\nfunc NewCachedRepo() {}\n\nvar _ = 1\n",
		"tagged.go":    "//go:build !never\n\n" + Header + "\n\npackage p\n\nconst K = 1\n",
		"user.go":      "package p\n\n" + Header + "\n\nvar a, b = 1, 2\n\ntype T struct{}\n\nfunc (T) M() {}\n",
		"broken.go":    Header + "\npackage p\n\nfunc {\n",
		"p_test.go":    "package p_test\n\nfunc helper() {}\n",
		"notes.txt":    Header + "\n",
		"nopackage.go": "// nothing\n",
	}
	for name, src := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644))
	}
	s := &scanner{}
	got := map[string]*scannedFile{}
	for _, f := range s.dir(dir) {
		got[filepath.Base(f.path)] = f
	}
	require.Len(t, got, 6, "the .go files")
	assert.True(t, got["a_zoo.go"].generated)
	assert.Equal(t, []string{"CachedRepo", "NewCachedRepo"}, got["a_zoo.go"].names)
	assert.True(t, got["tagged.go"].generated, "the header after a build constraint")
	assert.False(t, got["user.go"].generated, "the header after the package clause")
	assert.Equal(t, []string{"a", "b", "T"}, got["user.go"].names)
	assert.True(t, got["broken.go"].generated, "a broken file still says it is generated")
	assert.Nil(t, got["broken.go"].names)
	assert.Equal(t, "p_test", got["p_test.go"].pkgName)
	assert.Equal(t, "", got["nopackage.go"].pkgName)
	assert.False(t, got["nopackage.go"].generated)

	assert.True(t, s.isGenerated(filepath.Join(dir, "a_zoo.go")))
	assert.False(t, s.isGenerated(filepath.Join(dir, "user.go")))
	assert.False(t, s.isGenerated(filepath.Join(dir, "notes.txt")))
	assert.False(t, s.isGenerated(filepath.Join(dir, "missing.go")))
	assert.Same(t, got["user.go"], s.file(filepath.Join(dir, ".", "user.go")), "scanned once")
}

// TestNearMissLeavesOthersAlone: annotations, misspelt annotations (which
// parseAnnotation reports) and prose that mentions zoo: are not near
// misses; the golden case errors_nearmiss has those that are.
func TestNearMissLeavesOthersAlone(t *testing.T) {
	for _, text := range []string{
		`//zoo:cache deps="a"`,
		`//zoo:cahce deps="a"`,
		`// zoo: the package's own zoo`,
		`// zoo:`,
		`// zookeeper: cache`,
		`/* zoo: a zoo of caches */`,
		`// Ping checks. zoo: cache`,
	} {
		assert.Empty(t, nearMiss(text), text)
	}
	assert.NotEmpty(t, nearMiss(`// zoo:cache`))
}
