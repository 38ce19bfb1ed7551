package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
)

const usage = `usage: zoo [flags] COMMAND [flags] [ARGS]

The source is one of:
  -url URL      a process's debug handler (zoohttp.Debug), with the path it
                is mounted at: http://host:8080/debug/zoo
  -redis ADDR   the Redis the instances share (with -ns NAMESPACE); for a
                Cluster, any node's address, or several: host1:6379,host2:6379

commands:
  stats              counters per instance and per method, once
  watch              the same, live (-interval 1s, -n count)
  inspect PREFIX     tag versions at or below PREFIX, with their ages ("" for all)
  invalidate TAG...  expire everything under each TAG

Flags may come before or after the command, not after its arguments (put --
before an argument that starts with -). -interval and -n are watch's only.

flags:
`

// debugPath is where the examples and the zoohttp.Debug documentation mount
// the debug handler; -url without a path is told to add it.
const debugPath = "/debug/zoo"

// options are the command line's flags, wherever they were given.
type options struct {
	url, redis, ns string
	interval       time.Duration
	count          int
}

func defaults() *options { return &options{interval: time.Second} }

// flagSet returns a flag set that writes into o, with o's values as the
// defaults. The command line is parsed
// by two of them, one before the command and one after it, so that a flag
// means the same wherever it stands.
func (o *options) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by run, prefixed zoo:
	fs.StringVar(&o.url, "url", o.url, "the URL of a process's debug handler (zoohttp.Debug), e.g. http://host:8080"+debugPath)
	fs.StringVar(&o.redis, "redis", o.redis, "the address of the Redis the instances share")
	fs.StringVar(&o.ns, "ns", o.ns, "with -redis: the caches' namespace")
	fs.DurationVar(&o.interval, "interval", o.interval, "watch: the refresh interval")
	fs.IntVar(&o.count, "n", o.count, "watch: stop after this many refreshes (0: until interrupted)")
	return fs
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, usage)
	fs := defaults().flagSet("zoo")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// command describes a verb: the arguments it takes, checked before any
// connection is made.
type command struct {
	synopsis string
	watch    bool // takes -interval and -n
	check    func(args []string) error
}

var commands = map[string]command{
	"stats":      {synopsis: "stats", check: noArgs("stats")},
	"watch":      {synopsis: "watch [-interval D] [-n N]", watch: true, check: noArgs("watch")},
	"inspect":    {synopsis: "inspect PREFIX", check: checkInspect},
	"invalidate": {synopsis: "invalidate TAG...", check: checkInvalidate},
}

func noArgs(name string) func([]string) error {
	return func(args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("%s takes no arguments, got %q", name, args)
		}
		return nil
	}
}

func checkInspect(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("inspect takes one PREFIX (\"\" for every tag), got %d arguments", len(args))
	}
	if args[0] == "" {
		return nil
	}
	return checkTag(args[0])
}

func checkInvalidate(args []string) error {
	if len(args) == 0 {
		return errors.New("invalidate takes the tags to invalidate (invalidate TAG...)")
	}
	for _, t := range args {
		if err := checkTag(t); err != nil {
			return err
		}
	}
	return nil
}

// checkTag rejects what the generator rejects in a deps template: an empty
// tag and an empty segment. Segments are separated by ':'; a ':' inside a
// value is written "%3A", as zoo.Tag escapes it, and separates nothing.
func checkTag(tag string) error {
	if tag == "" {
		return errors.New("empty tag (want segments joined by ':', e.g. org:1:product:2)")
	}
	for seg := range strings.SplitSeq(tag, ":") {
		if seg == "" {
			return fmt.Errorf("tag %q: empty segment (want segments joined by ':', e.g. org:1:product:2; a ':' inside a value is written %%3A, as zoo.Tag escapes it)", tag)
		}
	}
	return nil
}

// checkURL accepts the URL of a debug handler: http or https, a host, and
// the path the handler is mounted at, which a bare http://host:port lacks.
// Another path is allowed (the handler can be mounted anywhere); if nothing
// answers there, the error says where the handler usually is.
func checkURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("-url %q: want http://host:port%s", raw, debugPath)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("-url %q: want no query or fragment, only the handler's path (http://host:port%s)", raw, debugPath)
	}
	if strings.Trim(u.Path, "/") == "" {
		u.Path = debugPath
		return "", fmt.Errorf("-url %q has no path: add the path the debug handler is mounted at, usually %s (-url %s)", raw, debugPath, u)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// run is zoo without the process around it: it returns the exit status:
// 0, 1 when the command failed, 2 when the command line is wrong.
func run(args []string, stdout, stderr io.Writer) int {
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "zoo: "+format+"\n", a...)
		fmt.Fprintln(stderr, "usage: zoo [flags] COMMAND [flags] [ARGS] (zoo -h for more)")
		return 2
	}
	o := defaults()
	top := o.flagSet("zoo")
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stderr)
			return 0
		}
		return bad("%v", err)
	}
	if top.NArg() == 0 {
		return bad("give a command: stats, watch, inspect or invalidate")
	}
	name := top.Arg(0)
	cmd, ok := commands[name]
	if !ok {
		return bad("unknown command %q (want stats, watch, inspect or invalidate)", name)
	}
	after := top.Args()[1:]
	sub := o.flagSet("zoo " + name)
	if err := sub.Parse(after); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stderr)
			return 0
		}
		return bad("%s: %v (want zoo [flags] %s)", name, err, cmd.synopsis)
	}
	rest := sub.Args()
	// Parse stops at the first argument that is not a flag, or after --:
	// past the first, an argument that looks like a flag is a misplaced one.
	if n := len(after) - len(rest); n == 0 || after[n-1] != "--" {
		for _, a := range rest {
			if len(a) > 1 && a[0] == '-' {
				return bad("%s: flag %s after the arguments: flags go before them (zoo [flags] %s; -- ends the flags)", name, a, cmd.synopsis)
			}
		}
	}
	set := map[string]bool{}
	top.Visit(func(f *flag.Flag) { set[f.Name] = true })
	sub.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !cmd.watch {
		for _, f := range []string{"interval", "n"} {
			if set[f] {
				return bad("-%s is a watch flag; %s does not take it", f, name)
			}
		}
	}
	if o.interval <= 0 {
		return bad("-interval %v: want a positive duration", o.interval)
	}
	if o.count < 0 {
		return bad("-n %d: want a count of refreshes, or 0 for until interrupted", o.count)
	}
	switch {
	case o.url == "" && o.redis == "":
		return bad("give a source: -url URL (a process's debug handler) or -redis ADDR (the Redis the instances share)")
	case o.url != "" && o.redis != "":
		return bad("give one source: -url or -redis, not both")
	case set["ns"] && o.redis == "":
		return bad("-ns goes with -redis; a debug handler (-url) serves one cache")
	}
	if err := cmd.check(rest); err != nil {
		return bad("%v", err)
	}

	var src source
	if o.url != "" {
		base, err := checkURL(o.url)
		if err != nil {
			return bad("%v", err)
		}
		src = &debugSource{base: base, client: &http.Client{Timeout: 10 * time.Second}}
	} else {
		rs, err := newRedisSource(o.redis, o.ns)
		if err != nil {
			fmt.Fprintln(stderr, "zoo:", err)
			return 1
		}
		src = rs
	}
	defer src.close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var err error
	switch name {
	case "stats":
		err = statsCmd(ctx, src, stdout)
	case "watch":
		err = watchCmd(ctx, src, stdout, o.interval, o.count)
	case "inspect":
		err = inspectCmd(ctx, src, stdout, rest[0])
	case "invalidate":
		if err = src.invalidate(ctx, rest); err == nil {
			fmt.Fprintf(stdout, "invalidated %s\n", strings.Join(rest, ", "))
		}
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
	uncounted := false
	for _, s := range all {
		var hits, misses, loads uint64
		for _, m := range s.Methods {
			hits, misses, loads = hits+m.Hits, misses+m.Misses, loads+m.Loads
		}
		h, m, r, l := fmt.Sprint(hits), fmt.Sprint(misses), ratio(hits, misses), fmt.Sprint(loads)
		// An instance of an older version reports rows without the flag.
		if !s.MethodCounters && len(s.Methods) == 0 {
			h, m, r, l = "–", "–", "–", "–"
			uncounted = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t\n", s.Instance, s.Namespace, s.Consistency,
			yes(s.Connected), h, m, r, l, s.Invalidations, s.TagNodes)
	}
	if uncounted {
		fmt.Fprintln(tw, "–: the instance counts nothing per method (zoo.WithStats(true) turns the counters on)")
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "INSTANCE\tMETHOD\tHITS\tMISSES\tHIT RATIO\tLOADS\tERRORS\tCOALESCED\tFAIL-OPENS\tREFRESHES\tSTALE\tMEAN LOAD\t")
	for _, s := range all {
		for _, m := range s.Methods {
			mean := "–"
			if m.Loads > 0 {
				mean = (time.Duration(m.LoadDurationSum / float64(m.Loads) * float64(time.Second))).Round(time.Microsecond).String()
			}
			fmt.Fprintf(tw, "%s\t%s.%s\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t%d\t%s\t\n", s.Instance, m.Interface, m.Method,
				m.Hits, m.Misses, ratio(m.Hits, m.Misses), m.Loads, m.LoadErrors, m.Coalesced, m.FailOpens,
				refreshes(m), m.StaleServed, mean)
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

// refreshes shows a method's background refreshes, and those that failed
// after a slash when any did: 12, or 12/3.
func refreshes(m zoo.MethodStats) string {
	if m.RefreshErrors == 0 {
		return strconv.FormatUint(m.Refreshes, 10)
	}
	return fmt.Sprintf("%d/%d", m.Refreshes, m.RefreshErrors)
}
