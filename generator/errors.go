package generator

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// Pos is a position in a source file: File (relative to [Config.Dir] when
// possible), Line and Col, both 1-based; zero when unknown.
type Pos = model.Pos

// Error is one problem with the input, positioned at its cause.
type Error struct {
	Pos    Pos    // zero when the problem has no position
	Method string // the method it concerns, if any
	Msg    string
}

// Error returns the problem as file:line:col: method: message, leaving out
// what it does not have.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.File != "" {
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	}
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors are all the problems of a run, sorted by position.
type Errors []*Error

// Error returns the problems one a line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// reporter collects the problems of a run, each once: a problem found
// again at the same position, for the same method, with the same message
// (a method checked through every interface that embeds it, an error both
// the go command and the type checker report) is dropped. The zero value
// is ready to use; it is not safe for concurrent use.
type reporter struct {
	errs Errors         // in the order found
	seen map[Error]bool // what errs holds
}

// errorf records a problem at pos concerning method ("" for none).
func (r *reporter) errorf(pos Pos, method, format string, args ...any) {
	r.add(&Error{Pos: pos, Method: method, Msg: fmt.Sprintf(format, args...)})
}

// add records e, unless the same problem is recorded already.
func (r *reporter) add(e *Error) {
	if r.seen[*e] {
		return
	}
	if r.seen == nil {
		r.seen = map[Error]bool{}
	}
	r.seen[*e] = true
	r.errs = append(r.errs, e)
}

// sorted returns the problems recorded, sorted by position (those without
// one first, in the order found); nil when there are none.
func (r *reporter) sorted() Errors {
	if len(r.errs) == 0 {
		return nil
	}
	es := slices.Clone(r.errs)
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	return es
}

// suggest returns " (did you mean X?)" for the candidate closest to s, if
// one is close enough to be a typo.
func suggest(s string, candidates []string) string {
	best := closest(s, candidates)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// closest returns the candidate closest to s if one is close enough to be
// a typo of it (fewer than 3 edits, ignoring case), else "".
func closest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein(strings.ToLower(s), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// levenshtein returns the edit distance between a and b, in bytes.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
