package generator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// TestGraphGolden compares zoogen -graph over testdata/graph with
// graph.txt and graph.dot; go test ./generator -update rewrites them.
func TestGraphGolden(t *testing.T) {
	dir := filepath.Join(testdata, "graph")
	for format, file := range map[GraphFormat]string{GraphText: "graph.txt", GraphDot: "graph.dot"} {
		t.Run(string(format), func(t *testing.T) {
			got, err := Graph(Config{Dir: dir}, format)
			require.NoError(t, err)
			again, err := Graph(Config{Dir: dir}, format)
			require.NoError(t, err)
			assert.Equal(t, string(got), string(again), "not deterministic")
			path := filepath.Join(dir, file)
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./generator -update")
			assert.Equal(t, string(want), string(got), "%s differs; run go test ./generator -update", file)
		})
	}
	_, err := Graph(Config{Dir: dir}, "svg")
	assert.ErrorContains(t, err, `unknown graph format "svg"`)
}

// dep parses a template for TestExpires: <x> is a reference, the rest text.
func dep(template string) *model.Dep {
	d := &model.Dep{Template: template}
	for _, s := range strings.Split(template, ":") {
		if strings.HasPrefix(s, "<") {
			d.Segments = append(d.Segments, &model.Segment{Param: strings.Trim(s, "<>")})
		} else {
			d.Segments = append(d.Segments, &model.Segment{Text: s})
		}
	}
	return d
}

func TestExpires(t *testing.T) {
	for _, c := range []struct {
		write, read string
		want        int // segments of the prefix; 0: does not expire
	}{
		{"org:<oid>", "org:<oid>:store:<sid>", 2},
		{"org:<p.OrgID>:store:<p.StoreID>:product:<p.ID>", "org:<oid>:store:<sid>:product:<pid>", 6},
		{"org:<oid>:store:<sid>:product:<pid>", "org:<oid>:store:<sid>", 0}, // longer than the read's tag
		{"org:1", "org:<oid>:store:<sid>", 2},                               // text matches a reference
		{"org:<oid>", "org:1:store:2", 2},                                   // a reference matches text
		{"org:<oid>:products", "org:<oid>:store:<sid>", 0},                  // two texts differ
		{"stats:products:<day>", "stats:reviews:<day>", 0},
		{"featured", "featured", 1},
		{"feat", "featured", 0}, // segments, not string prefixes
		{"<any>", "org:1", 1},
	} {
		n, ok := expires(dep(c.write), dep(c.read))
		assert.Equal(t, c.want, n, "%s expires %s", c.write, c.read)
		assert.Equal(t, c.want > 0, ok, "%s expires %s", c.write, c.read)
	}
}
