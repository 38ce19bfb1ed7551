package generator

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// Result is one file a run produces.
type Result struct {
	// Path is the file's path.
	Path string
	// Content is the file's new content; nil means the file is a stale
	// generated file with nothing left to generate, to be removed.
	Content []byte
}

// Generate loads the packages matched by patterns ("." when there are none)
// and returns the files their annotated interfaces generate, with the stale
// generated files to remove. It writes nothing. Problems with the input are
// returned together as [Errors].
func Generate(cfg Config, patterns ...string) ([]Result, error) {
	scan := &scanner{}
	mpkgs, pkgs, err := buildModel(cfg, patterns, scan)
	if err != nil {
		return nil, err
	}
	var results []Result
	produced := map[string]bool{}
	for _, pkg := range mpkgs {
		e := &emitter{pkg: pkg}
		for _, f := range pkg.Files {
			src, err := e.emitFile(f)
			if err != nil {
				return nil, err
			}
			results = append(results, Result{Path: f.Output, Content: src})
			produced[f.Output] = true
		}
	}
	for _, pkg := range pkgs {
		for _, path := range pkg.GoFiles {
			if !produced[path] && strings.HasSuffix(path, "_zoo.go") && scan.isGenerated(path) {
				results = append(results, Result{Path: path})
			}
		}
	}
	slices.SortFunc(results, func(a, b Result) int { return strings.Compare(a.Path, b.Path) })
	return results, nil
}

// Model returns the model Generate would emit, for -debug-model.
func Model(cfg Config, patterns ...string) ([]byte, error) {
	mpkgs, _, err := buildModel(cfg, patterns, &scanner{})
	if err != nil {
		return nil, err
	}
	return model.Debug(mpkgs)
}

// buildModel loads the packages matched by patterns and builds their model.
// It returns the loaded packages too; scan is the run's file scanner. The
// warnings of the load go to cfg.Warn, whether the run fails or not.
func buildModel(cfg Config, patterns []string, scan *scanner) ([]*model.Package, []*packages.Package, error) {
	pkgs, fset, warnings, err := load(cfg, patterns, scan)
	if err != nil {
		warn(cfg, warnings)
		return nil, nil, err
	}
	mpkgs, errs, parseWarnings := parse(cfg, fset, pkgs, scan)
	var all reporter
	for _, w := range append(warnings, parseWarnings...) {
		all.add(w)
	}
	warn(cfg, all.sorted())
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return mpkgs, pkgs, nil
}

// warn passes each of warnings to cfg.Warn, if it is set.
func warn(cfg Config, warnings Errors) {
	if cfg.Warn == nil {
		return
	}
	for _, w := range warnings {
		cfg.Warn(w)
	}
}

// Write brings the files on disk in line with results: it writes the files
// whose content differs from what is there, and removes stale ones. It
// returns the paths it changed. Each file is written whole, through a
// temporary file renamed into place.
func Write(results []Result) ([]string, error) {
	var changed []string
	for _, r := range results {
		old, err := os.ReadFile(r.Path)
		exists := err == nil
		switch {
		case r.Content == nil && exists:
			if err := os.Remove(r.Path); err != nil {
				return changed, err
			}
		case r.Content == nil, exists && bytes.Equal(old, r.Content):
			continue
		default:
			if err := writeFile(r.Path, r.Content); err != nil {
				return changed, err
			}
		}
		changed = append(changed, r.Path)
	}
	return changed, nil
}

// writeFile writes content to path through a temporary file in the same
// directory, renamed into place.
func writeFile(path string, content []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(content)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// Check returns the paths of the files Write would change.
func Check(results []Result) []string {
	var stale []string
	for _, r := range results {
		old, err := os.ReadFile(r.Path)
		exists := err == nil
		if r.Content == nil && exists || r.Content != nil && (!exists || !bytes.Equal(old, r.Content)) {
			stale = append(stale, r.Path)
		}
	}
	return stale
}
