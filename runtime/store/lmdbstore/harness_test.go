package lmdbstore_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/lmdbstore"
)

// The multi-process tests run this test binary again as worker processes:
// with workerEnv set, TestMain runs a worker instead of the tests. A worker
// opens the store in ZOO_LMDB_DIR under a cache and answers commands read
// from stdin, one line of output per command:
//
//	get <id>                  → <value> <loaded: 0 or 1>
//	update <id>               → <new value> <Unix ns when Invalidate returned>
//	wait <id> <value> <ms>    → <Unix ns when get first returned value>, or timeout
//	fill <from> <n> <bytes>   → ok <loads>: reads blobs from..from+n-1 of the size
//	stats                     → <warnings logged> <corrupt values read> <entries evicted>
//	quit                      → bye
//
// Values come from a fake database, one file per row in ZOO_LMDB_DB
// holding the row's version: update bumps it and invalidates item:<id>, as
// a generated write method does.
const workerEnv = "ZOO_LMDB_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" {
		os.Exit(runWorker())
	}
	if os.Getenv(openChildEnv) != "" {
		os.Exit(runOpenChild())
	}
	os.Exit(m.Run())
}

// countingHandler counts the warnings logged, and writes every record to
// stderr.
type countingHandler struct {
	slog.Handler
	warnings *atomic.Int64
}

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.warnings.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return countingHandler{h.Handler.WithAttrs(as), h.warnings}
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{h.Handler.WithGroup(name), h.warnings}
}

func runWorker() int {
	var warnings atomic.Int64
	logger := slog.New(countingHandler{slog.NewTextHandler(os.Stderr, nil), &warnings})
	opts := []lmdbstore.Option{lmdbstore.WithLogger(logger)}
	if n, _ := strconv.ParseInt(os.Getenv("ZOO_LMDB_MAP"), 10, 64); n > 0 {
		opts = append(opts, lmdbstore.WithMapSize(n))
	}
	s, err := lmdbstore.Open(os.Getenv("ZOO_LMDB_DIR"), opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mode := zoo.Local
	if os.Getenv("ZOO_LMDB_MODE") == "strict" {
		mode = zoo.Strict
	}
	cache, err := zoo.New(zoo.WithStore(s), zoo.WithNamespace(os.Getenv("ZOO_LMDB_NS")),
		zoo.WithConsistency(mode), zoo.WithLogger(logger))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cache.Close()
	w := &rows{dir: os.Getenv("ZOO_LMDB_DB")}
	m := cache.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Get"})
	blobs := cache.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Blob"})
	ctx := context.Background()

	get := func(id int64) (int64, bool, error) {
		loaded := false
		v, err := zoo.Load(ctx, m, zoo.KeyInt(m.Key(nil), id), func(ctx context.Context) (int64, error) {
			zoo.AddDeps(ctx, zoo.Tag("item", id))
			loaded = true
			return w.read(id), nil
		})
		return v, loaded, err
	}
	out := bufio.NewWriter(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		arg := func(i int) int64 {
			n, _ := strconv.ParseInt(f[i], 10, 64)
			return n
		}
		switch f[0] {
		case "get":
			v, loaded, err := get(arg(1))
			if err != nil {
				fmt.Fprintln(out, "error", err)
				break
			}
			fmt.Fprintln(out, v, b2i(loaded))
		case "update":
			v := w.bump(arg(1))
			if err := cache.Invalidate(ctx, zoo.Tag("item", arg(1))); err != nil {
				fmt.Fprintln(out, "error", err)
				break
			}
			fmt.Fprintln(out, v, time.Now().UnixNano())
		case "wait":
			deadline := time.Now().Add(time.Duration(arg(3)) * time.Millisecond)
			for {
				v, _, err := get(arg(1))
				if err == nil && v == arg(2) {
					fmt.Fprintln(out, time.Now().UnixNano())
					break
				}
				if time.Now().After(deadline) {
					fmt.Fprintln(out, "timeout")
					break
				}
				time.Sleep(100 * time.Microsecond)
			}
		case "fill":
			size, loads := int(arg(3)), 0
			for i := arg(1); i < arg(1)+arg(2); i++ {
				v, err := zoo.Load(ctx, blobs, zoo.KeyInt(blobs.Key(nil), i), func(ctx context.Context) ([]byte, error) {
					zoo.AddDeps(ctx, zoo.Tag("blob", i))
					loads++
					return noise(i, size), nil
				})
				if err == nil && !bytes.Equal(v, noise(i, size)) {
					err = fmt.Errorf("blob %d: wrong value", i)
				}
				if err != nil {
					fmt.Fprintln(out, "error", err)
					break
				}
			}
			fmt.Fprintln(out, "ok", loads)
		case "stats":
			st, err := s.Stats()
			if err != nil {
				fmt.Fprintln(out, "error", err)
				break
			}
			fmt.Fprintln(out, warnings.Load(), s.Corrupt(), st.Evicted)
		case "quit":
			fmt.Fprintln(out, "bye")
			out.Flush()
			return 0
		default:
			fmt.Fprintln(out, "error unknown command", f[0])
		}
		out.Flush()
	}
	return 0
}

// noise returns n bytes that do not compress, the same for the same seed.
func noise(seed int64, n int) []byte {
	b := make([]byte, n)
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], uint64(seed))
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rows is the fake database: one file per row, holding its version.
type rows struct{ dir string }

func (r *rows) read(id int64) int64 {
	b, _ := os.ReadFile(filepath.Join(r.dir, strconv.FormatInt(id, 10)))
	v, _ := strconv.ParseInt(string(b), 10, 64)
	return v
}

func (r *rows) bump(id int64) int64 {
	v := r.read(id) + 1
	path := filepath.Join(r.dir, strconv.FormatInt(id, 10))
	if err := os.WriteFile(path+".tmp", []byte(strconv.FormatInt(v, 10)), 0o600); err != nil {
		panic(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		panic(err)
	}
	return v
}

// host is a directory that processes share: the store's and the fake
// database's.
type host struct {
	t     *testing.T
	store string
	db    string
}

func newHost(t *testing.T) *host {
	dir := t.TempDir()
	h := &host{t: t, store: filepath.Join(dir, "cache"), db: filepath.Join(dir, "db")}
	if err := os.MkdirAll(h.db, 0o700); err != nil {
		t.Fatal(err)
	}
	return h
}

// worker is a running worker process.
type worker struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  chan string
	stderr *lockedBuffer
	done   bool
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// workerConfig says how a worker runs.
type workerConfig struct {
	mode    zoo.Consistency
	ns      string
	mapSize int64
}

// start starts a worker process on the host; it quits when the test ends.
func (h *host) start(name string, cfg workerConfig) *worker {
	t := h.t
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"=1", "ZOO_LMDB_DIR="+h.store, "ZOO_LMDB_DB="+h.db,
		"ZOO_LMDB_MODE="+cfg.mode.String(), "ZOO_LMDB_NS="+cfg.ns, "ZOO_LMDB_MAP="+strconv.FormatInt(cfg.mapSize, 10),
		// A binary built with -race sleeps a second when it exits, unless told not to.
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	w := &worker{t: t, name: name, cmd: cmd, lines: make(chan string, 16), stderr: new(lockedBuffer)}
	cmd.Stderr = w.stderr
	var err error
	if w.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
	}()
	t.Cleanup(w.quit)
	return w
}

// send sends a command without waiting for its answer; recv reads it.
func (w *worker) send(cmd string) {
	w.t.Helper()
	if _, err := fmt.Fprintln(w.in, cmd); err != nil {
		w.t.Fatalf("%s: sending %q: %v\nstderr:\n%s", w.name, cmd, err, w.stderr)
	}
}

func (w *worker) recv() string {
	w.t.Helper()
	select {
	case line, ok := <-w.lines:
		if !ok {
			w.t.Fatalf("%s exited\nstderr:\n%s", w.name, w.stderr)
		}
		if strings.HasPrefix(line, "error") {
			w.t.Fatalf("%s: %s\nstderr:\n%s", w.name, line, w.stderr)
		}
		return line
	case <-time.After(20 * time.Second):
		w.t.Fatalf("%s did not answer\nstderr:\n%s", w.name, w.stderr)
	}
	return ""
}

// do sends a command and returns the fields of its answer.
func (w *worker) do(format string, args ...any) []string {
	w.t.Helper()
	w.send(fmt.Sprintf(format, args...))
	return strings.Fields(w.recv())
}

// get reads row id through the worker's cache.
func (w *worker) get(id int) (value int64, loaded bool) {
	w.t.Helper()
	f := w.do("get %d", id)
	return atoi(w.t, f[0]), f[1] == "1"
}

// update writes row id and invalidates it, returning the row's new value
// and when the invalidation returned.
func (w *worker) update(id int) (int64, time.Time) {
	w.t.Helper()
	f := w.do("update %d", id)
	return atoi(w.t, f[0]), time.Unix(0, atoi(w.t, f[1]))
}

// stats returns the warnings the worker logged, the corrupt values it read
// and the entries it evicted.
func (w *worker) stats() (warnings, corrupt, evicted int64) {
	w.t.Helper()
	f := w.do("stats")
	return atoi(w.t, f[0]), atoi(w.t, f[1]), atoi(w.t, f[2])
}

// quit stops the worker and waits for it.
func (w *worker) quit() {
	if w.done {
		return
	}
	w.done = true
	_, _ = fmt.Fprintln(w.in, "quit")
	w.in.Close()
	exited := make(chan error, 1)
	go func() { exited <- w.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			w.t.Errorf("%s: %v\nstderr:\n%s", w.name, err, w.stderr)
		}
	case <-time.After(10 * time.Second):
		_ = w.cmd.Process.Kill()
		<-exited
		w.t.Errorf("%s did not quit\nstderr:\n%s", w.name, w.stderr)
	}
}

// kill kills the worker, as a crash would.
func (w *worker) kill() {
	w.done = true
	_ = w.cmd.Process.Kill()
	_ = w.cmd.Wait()
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
