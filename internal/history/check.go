package history

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind is what an operation did.
type Kind int

const (
	Read   Kind = iota // a read through the cache
	Write              // a write through the decorator: the database, then the invalidation
	Failed             // a read that returned an error to its caller (not checked)
)

// Op is one operation of a history, with when it started and ended as the
// client saw it. Times from several processes of one host are comparable:
// they are wall-clock nanoseconds.
type Op struct {
	Kind     Kind
	Client   string // which instance or process
	Row      int64
	Version  int64 // read: the version returned; write: the version written
	Start    int64 // Unix nanoseconds
	End      int64
	Fallback bool `json:",omitempty"` // a read the cache could not serve fresh (for the report only)
}

// Violation is a read that returned a version older than one whose write,
// invalidation included, had completed before the read began.
type Violation struct {
	Read  Op
	Write Op // the latest such write
	// Lag is how long before the read began that write had completed.
	Lag time.Duration
}

func (v Violation) String() string {
	return fmt.Sprintf("%s read row %d at version %d, %v after %s's write of version %d had completed",
		v.Read.Client, v.Read.Row, v.Read.Version, v.Lag, v.Write.Client, v.Write.Version)
}

// Report is what Check finds in a history.
type Report struct {
	Reads, Writes int
	// Failed counts the reads that returned an error to their caller.
	Failed int
	// Violations are the stale reads, worst (longest lag) first.
	Violations []Violation
	// MaxLag is the longest lag of a stale read, 0 without any.
	MaxLag time.Duration
}

// Stale returns the violations whose lag exceeds window: the stale reads a
// consistency mode that promises freshness after window may not make.
func (r Report) Stale(window time.Duration) []Violation {
	var out []Violation
	for _, v := range r.Violations {
		if v.Lag > window {
			out = append(out, v)
		}
	}
	return out
}

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d reads, %d writes, %d stale reads", r.Reads, r.Writes, len(r.Violations))
	if len(r.Violations) > 0 {
		fmt.Fprintf(&b, " (longest lag %v)", r.MaxLag)
		for _, v := range r.Violations[:min(5, len(r.Violations))] {
			b.WriteString("\n  " + v.String())
		}
	}
	return b.String()
}

// Check finds every stale read of a history: a read of a row that returned
// a version lower than the version of a write of that row that ended before
// the read started. It is exact: it compares every read with the latest
// version written by writes that completed before the read began, in
// O(n log n).
func Check(ops []Op) Report {
	var r Report
	writes := map[int64][]Op{}
	var reads []Op
	for _, op := range ops {
		switch op.Kind {
		case Write:
			writes[op.Row] = append(writes[op.Row], op)
			r.Writes++
		case Read:
			reads = append(reads, op)
			r.Reads++
		case Failed:
			r.Failed++
		}
	}
	// For each row: writes by end time, with the running maximum version
	// (and the write that holds it) among those ended so far.
	type prefix struct {
		end  int64
		best Op
	}
	index := map[int64][]prefix{}
	for row, ws := range writes {
		slices.SortFunc(ws, func(a, b Op) int { return cmp.Compare(a.End, b.End) })
		ps := make([]prefix, len(ws))
		best := ws[0]
		for i, w := range ws {
			if w.Version > best.Version {
				best = w
			}
			ps[i] = prefix{end: w.End, best: best}
		}
		index[row] = ps
	}
	for _, rd := range reads {
		ps := index[rd.Row]
		// The last write that ended strictly before the read started.
		i, _ := slices.BinarySearchFunc(ps, rd.Start, func(p prefix, start int64) int { return cmp.Compare(p.end, start) })
		if i == 0 {
			continue
		}
		if w := ps[i-1].best; w.Version > rd.Version {
			lag := time.Duration(rd.Start - w.End)
			r.Violations = append(r.Violations, Violation{Read: rd, Write: w, Lag: lag})
			r.MaxLag = max(r.MaxLag, lag)
		}
	}
	slices.SortFunc(r.Violations, func(a, b Violation) int { return cmp.Compare(b.Lag, a.Lag) })
	return r
}
