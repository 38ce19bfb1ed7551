package ratelog_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/zoogen/zoogen/runtime/internal/ratelog"
)

func TestOncePerInterval(t *testing.T) {
	var buf bytes.Buffer
	l := ratelog.Log{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	for range 5 {
		l.Warn("store down")
	}
	l.Info("another")
	if n := strings.Count(buf.String(), "store down"); n != 1 {
		t.Fatalf("written %d times:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "another") {
		t.Fatal("a different message was suppressed")
	}
	var zero ratelog.Log
	zero.Warn("nowhere") // no logger: nothing, no panic
}
