package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sample is benchstat -format csv output in the shape run.sh produces.
const sample = `goos: linux
goarch: amd64
pkg: github.com/zoogen/zoogen/bench/compare
cpu: AMD EPYC
,this run,
,sec/op,CI
Hit/otter-2,1e-07,2%
Hit/zoogen-2,1.1e-07,∞
Stampede/zoogen-2,0.002,1%
Invalidate/zoogen/entries=1000-2,2.4e-07,∞
Invalidate/zoogen/entries=1000000-2,2.5e-07,∞
Invalidate/gocache/entries=1000000-2,0.0005,∞
geomean,1e-06,

,this run,
,allocs/op,CI
Hit/otter-2,0,∞
Hit/zoogen-2,0,∞
geomean,,

,this run,
,loads/op,CI
Stampede/zoogen-2,1.026,∞
geomean,1.026,

,this run,
,fill-sec/entry,CI
Invalidate/gocache/entries=1000000-2,4.8e-05,∞
geomean,4.8e-05,
`

func TestParseStats(t *testing.T) {
	st, err := parseStats(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if st.procs != "2" || st.config["cpu"] != "AMD EPYC" {
		t.Errorf("procs %q, cpu %q", st.procs, st.config["cpu"])
	}
	if s, ok := st.get("sec/op", "Hit/otter"); !ok || s.Median != 1e-7 || s.CI != "2%" {
		t.Errorf("Hit/otter = %+v, %v", s, ok)
	}
	if s, ok := st.get("loads/op", "Stampede/zoogen"); !ok || s.Median != 1.026 {
		t.Errorf("Stampede/zoogen loads = %+v, %v", s, ok)
	}
	if _, ok := st.get("sec/op", "geomean"); ok {
		t.Error("the geomean row was read as a benchmark")
	}
	if _, err := parseStats(strings.NewReader("goos: linux\n")); err == nil {
		t.Error("no error for input without results")
	}
}

// writePage runs write on sample over out (an existing page, or none when
// old is "") and returns the page it wrote.
func writePage(t *testing.T, old string) string {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "stats.csv"), filepath.Join(dir, "BENCHMARKS.md")
	if err := os.WriteFile(in, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	if old != "" {
		if err := os.WriteFile(out, []byte(old), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := write(in, "", out, meta{Commit: "abc123"}, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWrite(t *testing.T) {
	page := writePage(t, "")
	for _, want := range []string{
		"at commit `abc123`",
		"| **otter** (floor) |",
		"| 110 ns | 1.10× |",           // zoogen's hit against the floor's
		"| 1.026 |",                    // zoogen's loads per stampede
		"| 48.0 µs |",                  // gocache's filling per entry
		"gocache 2,000× zoogen's time", // 500 µs against 250 ns
		"Above one load per stampede (zoogen)",
		"| sturdyc | `Get`; on a miss `GetOrFetch` | — |", // not in the results
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(page)
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{duration(2.261e-7), "226 ns"},
		{duration(3.195e-4), "320 µs"},
		{duration(0.03892), "38.9 ms"},
		{duration(1.5), "1.50 s"},
		{ratio(0.918), "0.918×"},
		{ratio(12.34), "12.3×"},
		{ratio(1945277), "1,950,000×"},
		{rate(4.4e-8), "22.7 M/s"},
		{size(1_000_000), "1M"},
		{size(100_000), "100k"},
		{thousands(100000), "100,000"},
		{decimals(1.0154999999999998, 3), "1.015"},
		{decimals(325.5, 3), "325.5"},
		{decimals(2, 3), "2"},
		{ci("∞"), ""},
		{ci("3%"), " ±3%"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestWriteKeepsTheRuntimeBlock: a rerun of the peers keeps the runtime's
// own figures, which bench/runtime.sh wrote between their markers.
func TestWriteKeepsTheRuntimeBlock(t *testing.T) {
	block := runtimeBegin + "\n## The runtime's own figures\n\n| hit | 1.1x |\n" + runtimeEnd
	page := writePage(t, "# old page\n\n"+block+"\n\nold tail\n")
	if !strings.Contains(page, block) || strings.Contains(page, "old tail") {
		t.Errorf("the runtime block was not kept alone:\n%s", page)
	}
	if strings.Index(page, block) > strings.Index(page, "## What each library offers") {
		t.Errorf("the runtime block is not before the comparison of features")
	}
}
