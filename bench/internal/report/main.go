// Command report writes BENCHMARKS.md from the comparison benchmarks'
// results, summarised by benchstat: run.sh calls it as
//
//	go run ./internal/report -csv stats.csv -text stats.txt -o ../BENCHMARKS.md
//
// where stats.csv is `benchstat -format csv` and stats.txt plain benchstat
// output of the same run. The tables follow the contenders declared in
// package compare; a contender missing from the results shows as "—".
package main

import (
	"bufio"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"text/template"
	"time"
)

//go:embed template.md
var page string

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command without the process around it: it returns the exit
// status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	csvPath := fs.String("csv", "", "benchstat -format csv output (required)")
	textPath := fs.String("text", "", "benchstat text output, quoted at the end of the page")
	out := fs.String("o", "", "file to write (default: standard output)")
	commit := fs.String("commit", "", "commit the benchmarks ran at")
	elapsed := fs.Duration("elapsed", 0, "how long the run took")
	counts := fs.String("counts", "", "what -count each group of benchmarks ran with, for the page")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *csvPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: report -csv stats.csv [-text stats.txt] [-o BENCHMARKS.md] [-commit id] [-elapsed d] [-counts text]")
		return 2
	}
	if err := write(*csvPath, *textPath, *out, meta{Commit: *commit, Elapsed: *elapsed, Counts: *counts}, stdout); err != nil {
		fmt.Fprintf(stderr, "report: %v\n", err)
		return 1
	}
	return 0
}

// meta is what the page says about the run besides its results.
type meta struct {
	Commit  string
	Elapsed time.Duration
	Counts  string
}

func write(csvPath, textPath, out string, m meta, stdout io.Writer) error {
	f, err := os.Open(csvPath)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := parseStats(f)
	if err != nil {
		return fmt.Errorf("%s: %w", csvPath, err)
	}
	var text string
	if textPath != "" {
		b, err := os.ReadFile(textPath)
		if err != nil {
			return err
		}
		text = strings.TrimSpace(string(b))
	}
	d := build(st, m, text)
	if out != "" {
		if old, err := os.ReadFile(out); err == nil {
			d.Runtime = runtimeBlock(string(old))
		}
	}
	tmpl, err := template.New("BENCHMARKS.md").Parse(page)
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, d); err != nil {
		return err
	}
	if out == "" {
		_, err := io.WriteString(stdout, b.String())
		return err
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

// The markers around the runtime's own figures in BENCHMARKS.md. bench/runtime.sh
// writes what is between them; a rerun of the peers keeps it.
const (
	runtimeBegin = "<!-- runtime:begin -->"
	runtimeEnd   = "<!-- runtime:end -->"
)

// runtimeBlock returns the runtime's block of page, markers included, or ""
// when page has none.
func runtimeBlock(page string) string {
	i := strings.Index(page, runtimeBegin)
	j := strings.Index(page, runtimeEnd)
	if i < 0 || j < i {
		return ""
	}
	return page[i : j+len(runtimeEnd)]
}

// cpuModel returns the processor's model name from /proc/cpuinfo, or ""
// where there is none.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// moduleVersions returns the version of each module this program links,
// by path: the versions the benchmarks ran with, since both build from the
// bench module's go.mod.
func moduleVersions() map[string]string {
	v := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			v[d.Path] = d.Version
		}
	}
	v["go"] = runtime.Version()
	return v
}
