package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// summary is benchstat's summary of one benchmark in one unit.
type summary struct {
	Median float64
	CI     string // benchstat's confidence interval, such as "2%"; "∞" with too few runs
}

// stats is what benchstat reported for one set of results.
type stats struct {
	// units maps a unit ("sec/op", "allocs/op", "loads/op"…) to the
	// summaries of the benchmarks measured in it, by name without the
	// "Benchmark" prefix and the "-GOMAXPROCS" suffix.
	units map[string]map[string]summary
	// config holds the "key: value" lines above the tables (goos, cpu…).
	config map[string]string
	// procs is the GOMAXPROCS suffix the names carried.
	procs string
}

// get returns the summary of benchmark name in unit.
func (s *stats) get(unit, name string) (summary, bool) {
	v, ok := s.units[unit][name]
	return v, ok
}

var procsSuffix = regexp.MustCompile(`-(\d+)$`)

// parseStats reads `benchstat -format csv` output of a single input: a
// "key: value" line per configuration key, then one table per unit, each
// made of a row naming the input, a row ",<unit>,CI", one row per benchmark
// and a geomean row.
func parseStats(r io.Reader) (*stats, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	st := &stats{units: map[string]map[string]summary{}, config: map[string]string{}}
	unit := ""
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch {
		case len(rec) == 1:
			if k, v, ok := strings.Cut(rec[0], ":"); ok {
				st.config[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		case rec[0] == "" && len(rec) >= 3 && rec[2] == "CI":
			unit = rec[1]
			if st.units[unit] == nil {
				st.units[unit] = map[string]summary{}
			}
		case rec[0] == "" || rec[0] == "geomean" || unit == "":
			// The row naming the input, or the geomean.
		default:
			if len(rec) < 2 {
				return nil, fmt.Errorf("unexpected row %q", rec)
			}
			name := rec[0]
			if m := procsSuffix.FindStringSubmatch(name); m != nil {
				st.procs = m[1]
				name = strings.TrimSuffix(name, m[0])
			}
			median, err := strconv.ParseFloat(rec[1], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark %s: %w", rec[0], err)
			}
			s := summary{Median: median}
			if len(rec) > 2 {
				s.CI = rec[2]
			}
			st.units[unit][name] = s
		}
	}
	if len(st.units) == 0 {
		return nil, errors.New("no benchmark results")
	}
	return st, nil
}
