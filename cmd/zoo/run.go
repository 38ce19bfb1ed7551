package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
)

const usage = `usage: zoo (-url URL | -redis ADDR [-ns NAMESPACE]) COMMAND

commands:
  stats              counters per instance and per method, once
  watch              the same, live (-interval 1s, -n count)
  inspect PREFIX     tag versions at or below PREFIX, with their ages
  invalidate TAG...  expire everything under each TAG

flags:
`

// run is zoo without the process around it: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("zoo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "", "the base URL of a process's debug handler (zoohttp.Debug)")
	addr := fs.String("redis", "", "the address of the Redis the instances share")
	ns := fs.String("ns", "", "with -redis: the caches' namespace")
	interval := fs.Duration("interval", time.Second, "watch: the refresh interval")
	count := fs.Int("n", 0, "watch: stop after this many refreshes (0: until interrupted)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 || (*base == "") == (*addr == "") {
		fs.Usage()
		return 2
	}
	var src source
	if *base != "" {
		src = &debugSource{base: strings.TrimRight(*base, "/"), client: &http.Client{Timeout: 10 * time.Second}}
	} else {
		rs, err := newRedisSource(*addr, *ns)
		if err != nil {
			fmt.Fprintln(stderr, "zoo:", err)
			return 1
		}
		src = rs
	}
	defer src.close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	cmd, rest := fs.Arg(0), fs.Args()[1:]
	var err error
	switch cmd {
	case "stats":
		err = statsCmd(ctx, src, stdout)
	case "watch":
		err = watchCmd(ctx, src, stdout, *interval, *count)
	case "inspect":
		if len(rest) != 1 {
			fmt.Fprintln(stderr, "zoo: inspect takes one PREFIX (\"\" for every tag)")
			return 2
		}
		err = inspectCmd(ctx, src, stdout, rest[0])
	case "invalidate":
		if len(rest) == 0 {
			fmt.Fprintln(stderr, "zoo: invalidate takes the tags to invalidate")
			return 2
		}
		if err = src.invalidate(ctx, rest); err == nil {
			fmt.Fprintf(stdout, "invalidated %s\n", strings.Join(rest, ", "))
		}
	default:
		fmt.Fprintf(stderr, "zoo: unknown command %q\n", cmd)
		fs.Usage()
		return 2
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintln(stderr, "zoo:", err)
		return 1
	}
	return 0
}

func statsCmd(ctx context.Context, src source, w io.Writer) error {
	all, err := src.stats(ctx)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		fmt.Fprintln(w, "no instance has reported")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "INSTANCE\tNAMESPACE\tMODE\tCONNECTED\tHITS\tMISSES\tHIT RATIO\tLOADS\tINVALIDATIONS\tTAG NODES\t")
	for _, s := range all {
		var hits, misses, loads uint64
		for _, m := range s.Methods {
			hits, misses, loads = hits+m.Hits, misses+m.Misses, loads+m.Loads
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%d\t%d\t%d\t\n", s.Instance, s.Namespace, s.Consistency,
			yes(s.Connected), hits, misses, ratio(hits, misses), loads, s.Invalidations, s.TagNodes)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "INSTANCE\tMETHOD\tHITS\tMISSES\tHIT RATIO\tLOADS\tERRORS\tCOALESCED\tFAIL-OPENS\tMEAN LOAD\t")
	for _, s := range all {
		for _, m := range s.Methods {
			mean := "–"
			if m.Loads > 0 {
				mean = (time.Duration(m.LoadDurationSum / float64(m.Loads) * float64(time.Second))).Round(time.Microsecond).String()
			}
			fmt.Fprintf(tw, "%s\t%s.%s\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t\n", s.Instance, m.Interface, m.Method,
				m.Hits, m.Misses, ratio(m.Hits, m.Misses), m.Loads, m.LoadErrors, m.Coalesced, m.FailOpens, mean)
		}
	}
	return tw.Flush()
}

// watchCmd refreshes the statistics every interval, in place, with rates
// computed between two snapshots.
func watchCmd(ctx context.Context, src source, w io.Writer, interval time.Duration, count int) error {
	prev := map[string]zoo.Stats{}
	for i := 0; count == 0 || i < count; i++ {
		all, err := src.stats(ctx)
		if err != nil {
			return err
		}
		fmt.Fprint(w, "\x1b[H\x1b[2J") // home, clear: refresh in place
		fmt.Fprintf(w, "zoo watch · %s · every %v\n\n", time.Now().Format(time.TimeOnly), interval)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "INSTANCE\tCONNECTED\tHIT RATIO\tHITS/S\tLOADS/S\tINVALIDATIONS/S\tTAG NODES\t")
		for _, s := range all {
			hits, misses, loads := totals(s)
			p, seen := prev[s.Instance]
			rate := func(now, before uint64) string {
				secs := s.At.Sub(p.At).Seconds()
				if !seen || secs <= 0 {
					return "–"
				}
				return fmt.Sprintf("%.1f", float64(now-before)/secs)
			}
			ph, pm, pl := totals(p)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", s.Instance, yes(s.Connected), ratio(hits-ph, misses-pm),
				rate(hits, ph), rate(loads, pl), rate(s.Invalidations, p.Invalidations), s.TagNodes)
			prev[s.Instance] = s
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if count != 0 && i == count-1 {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
	return nil
}

func totals(s zoo.Stats) (hits, misses, loads uint64) {
	for _, m := range s.Methods {
		hits, misses, loads = hits+m.Hits, misses+m.Misses, loads+m.Loads
	}
	return hits, misses, loads
}

func inspectCmd(ctx context.Context, src source, w io.Writer, prefix string) error {
	rows, err := src.tags(ctx, prefix)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		fmt.Fprintf(w, "no tag at or below %q has been invalidated (or it was pruned)\n", prefix)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TAG\tVERSION\tAGE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%v\n", r.Tag, r.Version, (time.Duration(r.Age * float64(time.Second))).Round(time.Millisecond))
	}
	return tw.Flush()
}

func ratio(hits, misses uint64) string {
	if hits+misses == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(hits)/float64(hits+misses))
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
