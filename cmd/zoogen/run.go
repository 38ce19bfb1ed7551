package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/zoogen/zoogen/generator"
)

// run is zoogen without the process around it: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("zoogen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "write nothing; exit 1 and list the files that are stale")
	debugModel := fs.Bool("debug-model", false, "print the model the annotations produce, as JSON")
	tags := fs.String("tags", "", "comma-separated build tags to load the packages with")
	var graph graphFlag
	fs.Var(&graph, "graph", "write nothing; print which cached reads each write expires, and those no write does (-graph=dot for Graphviz)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: zoogen [-check] [-debug-model] [-graph[=dot]] [-tags list] [packages]\n\n"+
			"zoogen writes a <file>_zoo.go caching decorator beside each file with\n"+
			"//zoo:cache or //zoo:invalidate annotations. Without packages it works on\n"+
			"the package in the current directory, as go generate runs it.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg := generator.Config{Warn: func(w *generator.Error) { fmt.Fprintf(stderr, "zoogen: warning: %v\n", w) }}
	if *tags != "" {
		cfg.BuildFlags = []string{"-tags=" + *tags}
	}
	if *debugModel {
		out, err := generator.Model(cfg, fs.Args()...)
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "%s\n", out)
		return 0
	}
	if graph != "" {
		out, err := generator.Graph(cfg, generator.GraphFormat(graph), fs.Args()...)
		if err != nil {
			return fail(stderr, err)
		}
		stdout.Write(out)
		return 0
	}
	results, err := generator.Generate(cfg, fs.Args()...)
	if err != nil {
		return fail(stderr, err)
	}
	if *check {
		stale := generator.Check(results)
		for _, path := range stale {
			fmt.Fprintf(stderr, "zoogen: %s is stale; run go generate\n", relative(path))
		}
		if len(stale) > 0 {
			return 1
		}
		return 0
	}
	if _, err := generator.Write(results); err != nil {
		return fail(stderr, err)
	}
	return 0
}

// fail prints err, one problem a line, and returns the failure status.
func fail(stderr io.Writer, err error) int {
	var errs generator.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintf(stderr, "zoogen: %v\n", e)
		}
		return 1
	}
	fmt.Fprintf(stderr, "zoogen: %v\n", err)
	return 1
}

// relative returns path relative to the working directory when it is below
// it.
func relative(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// graphFlag is -graph: a boolean flag that also takes a format, so that
// -graph prints text and -graph=dot Graphviz dot. The zero value is off.
type graphFlag generator.GraphFormat

// String returns the format, "" when off.
func (g *graphFlag) String() string { return string(*g) }

// IsBoolFlag lets -graph stand alone, as flag.Value allows.
func (g *graphFlag) IsBoolFlag() bool { return true }

// Set takes true (the flag alone) or text, dot, or false.
func (g *graphFlag) Set(s string) error {
	switch s {
	case "true", string(generator.GraphText):
		*g = graphFlag(generator.GraphText)
	case string(generator.GraphDot):
		*g = graphFlag(generator.GraphDot)
	case "false":
		*g = ""
	default:
		return fmt.Errorf("want -graph (text) or -graph=dot, not -graph=%s", s)
	}
	return nil
}
