package main

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/zoogen/zoogen/bench/compare"
)

// none stands for a figure the run did not produce.
const none = "—"

// floor is the contender the hit ratios are relative to.
const floor = "otter"

// data is what template.md is executed with.
type data struct {
	Date, CPU, GoVersion, Procs, Commit, Elapsed, Counts string
	Cores                                                int

	Capacity, HotKeys, Callers, PerStore string
	Latency                              string
	Sizes                                []string // "1k", "100k", "1M"
	Largest, Smallest                    string

	Versions map[string]string

	Hit, Parallel []hitRow
	Invalidate    []invalidateRow
	// VsZoogen compares each other contender's invalidation at the largest
	// size with zoogen's: "gocache 1,850×".
	VsZoogen []string
	Stampede []stampedeRow
	// Doubled lists the singleflight contenders whose median exceeded one
	// load per stampede.
	Doubled []string

	BenchstatText string
	// Runtime is the block of the runtime's own figures that
	// bench/runtime.sh wrote into the page, kept as it was; "" when none.
	Runtime string
}

type hitRow struct {
	Name, Calls             string
	Time, CI, Ratio, Rate   string
	BytesPerOp, AllocsPerOp string
	IsFloor                 bool
}

type invalidateRow struct {
	Name, Does string
	Times      []string // per size
	Growth     string   // largest ÷ smallest
	Fill       string   // per entry, at the largest size
}

type stampedeRow struct {
	Name, Calls, Loads, Time string
}

func build(st *stats, m meta, text string) data {
	d := data{
		Date:      time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		CPU:       cpuModel(),
		Cores:     runtime.NumCPU(),
		GoVersion: runtime.Version(),
		Procs:     st.procs,
		Commit:    m.Commit,
		Counts:    m.Counts,
		Capacity:  thousands(compare.Capacity),
		HotKeys:   thousands(compare.HotKeys),
		Callers:   thousands(compare.StampedeCallers),
		PerStore:  thousands(compare.PerStore),
		Latency:   compare.StampedeLatency.String(),
		Versions:  moduleVersions(),

		BenchstatText: text,
	}
	if d.CPU == "" {
		d.CPU = st.config["cpu"]
	}
	if m.Elapsed > 0 {
		d.Elapsed = m.Elapsed.Round(time.Second).String()
	}
	for _, n := range compare.InvalidateSizes {
		d.Sizes = append(d.Sizes, size(n))
	}
	d.Smallest, d.Largest = d.Sizes[0], d.Sizes[len(d.Sizes)-1]

	d.Hit = hitRows(st, "Hit")
	d.Parallel = hitRows(st, "HitParallel")
	d.Invalidate, d.VsZoogen = invalidateRows(st)
	d.Stampede, d.Doubled = stampedeRows(st)
	return d
}

func hitRows(st *stats, bench string) []hitRow {
	base, haveBase := st.get("sec/op", bench+"/"+floor)
	var rows []hitRow
	for _, c := range compare.Readers {
		name := bench + "/" + c.Name
		r := hitRow{Name: c.Name, Calls: c.Calls, Time: none, CI: "", Ratio: none, Rate: none,
			BytesPerOp: none, AllocsPerOp: none, IsFloor: c.Name == floor}
		if s, ok := st.get("sec/op", name); ok {
			r.Time, r.CI = duration(s.Median), ci(s.CI)
			r.Rate = rate(s.Median)
			if haveBase && base.Median > 0 {
				r.Ratio = ratio(s.Median / base.Median)
			}
		}
		if s, ok := st.get("B/op", name); ok {
			r.BytesPerOp = decimals(s.Median, 1)
		}
		if s, ok := st.get("allocs/op", name); ok {
			r.AllocsPerOp = decimals(s.Median, 1)
		}
		rows = append(rows, r)
	}
	return rows
}

func invalidateRows(st *stats) ([]invalidateRow, []string) {
	sizes := compare.InvalidateSizes
	name := func(c string, n int) string { return fmt.Sprintf("Invalidate/%s/entries=%d", c, n) }
	largest := sizes[len(sizes)-1]
	zoogen, haveZoogen := st.get("sec/op", name("zoogen", largest))
	var rows []invalidateRow
	var vs []string
	for _, c := range compare.Invalidators {
		r := invalidateRow{Name: c.Name, Does: c.Does, Growth: none, Fill: none}
		for _, n := range sizes {
			t := none
			if s, ok := st.get("sec/op", name(c.Name, n)); ok {
				t = duration(s.Median) + ci(s.CI)
			}
			r.Times = append(r.Times, t)
		}
		small, okSmall := st.get("sec/op", name(c.Name, sizes[0]))
		big, okBig := st.get("sec/op", name(c.Name, largest))
		if okSmall && okBig && small.Median > 0 {
			r.Growth = ratio(big.Median / small.Median)
		}
		// benchstat turns the benchmark's fill-ns/entry into seconds.
		if s, ok := st.get("fill-sec/entry", name(c.Name, largest)); ok {
			r.Fill = duration(s.Median)
		}
		if okBig && haveZoogen && c.Name != "zoogen" && zoogen.Median > 0 {
			vs = append(vs, fmt.Sprintf("%s %s", c.Name, ratio(big.Median/zoogen.Median)))
		}
		rows = append(rows, r)
	}
	return rows, vs
}

func stampedeRows(st *stats) ([]stampedeRow, []string) {
	contenders := append([]compare.Contender{}, compare.Readers...)
	contenders = append(contenders, compare.CacheAside)
	var rows []stampedeRow
	var doubled []string
	for _, c := range contenders {
		name := "Stampede/" + c.Name
		loads, ok := st.get("loads/op", name)
		if !ok {
			continue // variants that make the same calls on a miss are not run
		}
		r := stampedeRow{Name: c.Name, Calls: c.Calls, Loads: decimals(loads.Median, 3), Time: none}
		if loads.Median > 1 && c.Name != compare.CacheAside.Name {
			doubled = append(doubled, c.Name)
		}
		if s, ok := st.get("sec/op", name); ok {
			r.Time = duration(s.Median) + ci(s.CI)
		}
		rows = append(rows, r)
	}
	return rows, doubled
}

// duration formats seconds with three significant digits in the unit that
// suits them.
func duration(sec float64) string {
	switch {
	case sec < 1e-6:
		return sig3(sec*1e9) + " ns"
	case sec < 1e-3:
		return sig3(sec*1e6) + " µs"
	case sec < 1:
		return sig3(sec*1e3) + " ms"
	default:
		return sig3(sec) + " s"
	}
}

// rate formats the operations per second that sec per operation make.
func rate(sec float64) string {
	if sec <= 0 {
		return none
	}
	r := 1 / sec
	switch {
	case r >= 1e6:
		return sig3(r/1e6) + " M/s"
	case r >= 1e3:
		return sig3(r/1e3) + " k/s"
	default:
		return sig3(r) + " /s"
	}
}

// ratio formats x as a multiple with three significant digits: "1.00×",
// "12.3×", "1,850×".
func ratio(x float64) string {
	if x >= 1000 {
		p := math.Pow(10, math.Floor(math.Log10(x))-2)
		return thousands(int(math.Round(x/p)*p)) + "×"
	}
	return sig3(x) + "×"
}

// ci formats benchstat's confidence interval as " ±2%", or nothing when
// there were too few runs to have one.
func ci(s string) string {
	if s == "" || s == "∞" {
		return ""
	}
	return " ±" + s
}

// decimals formats x with at most n decimals, dropping trailing zeros:
// decimals(1.0155, 3) is "1.016" (to the nearest), decimals(1, 3) is "1".
func decimals(x float64, n int) string {
	s := strconv.FormatFloat(x, 'f', n, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// sig3 formats x with three significant digits, without an exponent.
func sig3(x float64) string {
	if x == 0 {
		return "0"
	}
	digits := 2 - int(math.Floor(math.Log10(math.Abs(x))))
	if digits < 0 {
		digits = 0
	}
	return strconv.FormatFloat(x, 'f', digits, 64)
}

// size formats a number of entries as "1k", "100k", "1M".
func size(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1_000 && n%1_000 == 0:
		return strconv.Itoa(n/1_000) + "k"
	default:
		return strconv.Itoa(n)
	}
}

// thousands formats n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
