package generator

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// fuzzPos is where FuzzParseAnnotation's comment starts: not at column 1, so
// that an offset lost on the way shows.
var fuzzPos = model.Pos{File: "repo.go", Line: 12, Col: 2}

// seedAnnotations returns every //zoo: annotation the golden cases contain,
// from its first '/' to the end of its line: the good ones, the bad ones of
// testdata/errors, and those that generated doc comments quote.
func seedAnnotations(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(testdata, "*", "*.go"))
	require.NoError(tb, err)
	require.NotEmpty(tb, files)
	var seeds []string
	seen := map[string]bool{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(tb, err)
		for line := range strings.Lines(string(b)) {
			i := strings.Index(line, annotationPrefix)
			if i < 0 {
				continue
			}
			a := strings.TrimRight(line[i:], "\r\n")
			if !seen[a] {
				seen[a] = true
				seeds = append(seeds, a)
			}
		}
	}
	require.NotEmpty(tb, seeds)
	return seeds
}

// FuzzParseAnnotation feeds comment lines to the annotation parser. It must
// never panic; the problems it reports are positioned inside the comment;
// what it accepts reads back the same when written out again, and the tags
// of deps rebuilt from their segments are the tags as written.
//
// Half of the inputs get the //zoo: prefix from the fuzzer's bool, so that
// mutations spend their time after it; the other half are used only if they
// start with it, as collectAnnotations passes nothing else.
func FuzzParseAnnotation(f *testing.F) {
	for _, a := range seedAnnotations(f) {
		f.Add(a, false)
		f.Add(strings.TrimPrefix(a, annotationPrefix), true)
	}
	for _, a := range []string{
		"", "cache", "cache ", "invalidate", "cache deps", "cache deps=", `cache deps="`, `cache deps=""`,
		`cache deps="a\"b"`, `cache deps="a\x3a<b>"`, `cache deps=" a , b:<c.D> "`, `cache deps="a"ttl=1m`,
		"cache  deps=x:<y>\tttl=1m errors=ErrA,pkg.ErrB", `cache deps="<>:<a.>:<.a>:<a b>:a<b>:<a"`,
		`cache deps=",,"`, `cache deps=":"`, `cache deps="a::b,"`, "cache deps=`a`", `cache =x`, `cache ==`,
		`cache deps="é:<ü>"`, "cache deps=café:<id>", "cache\u00a0deps=x", "cache\u3000deps=x", `cache deps="x" deps="y"`,
		`invalidate deps="x" ttl=1m`, `cachee deps="x"`,
	} {
		f.Add(a, true)
	}

	f.Fuzz(func(t *testing.T, text string, prefixed bool) {
		if prefixed {
			text = annotationPrefix + text
		}
		if !strings.HasPrefix(text, annotationPrefix) {
			return
		}
		p := &parser{}
		a := p.parseAnnotation(text, fuzzPos, "Get")
		requireInComment(t, text, p.errs)
		if a == nil {
			require.NotEmpty(t, p.errs, "%q refused without a problem reported", text)
			return
		}
		require.Empty(t, p.errs, "%q accepted with problems reported", text)
		requireOptionsRoundTrip(t, text, a)
		if o := a.option("deps"); o != nil {
			requireDepsRoundTrip(t, text, p, o)
		}
	})
}

// requireInComment checks that every problem is positioned on the comment's
// line, between its first byte and just past its last.
//
// Only for valid UTF-8: Go source is UTF-8, and load stops at a file that is
// not. (Offsets into a quoted value are offsets into the unquoted value,
// where strconv.Unquote turns each invalid byte into the three of U+FFFD.)
func requireInComment(t *testing.T, text string, errs Errors) {
	t.Helper()
	if !utf8.ValidString(text) {
		return
	}
	for _, e := range errs {
		p := e.Pos
		if p.File != fuzzPos.File || p.Line != fuzzPos.Line || p.Col < fuzzPos.Col || p.Col > fuzzPos.Col+len(text) {
			t.Fatalf("%q (%d bytes at %s): problem positioned outside the comment: %v", text, len(text), fuzzPos, e)
		}
	}
}

// offset returns the byte offset in the comment of position p.
func offset(p model.Pos) int { return p.Col - fuzzPos.Col }

// requireOptionsRoundTrip checks that the options of a are where they were
// read from, and that a written out canonically (quoted values quoted by
// strconv.Quote) parses back to the same annotation.
func requireOptionsRoundTrip(t *testing.T, text string, a *annotation) {
	t.Helper()
	require.Contains(t, verbs, a.verb)
	canonical := annotationPrefix + a.verb
	for _, o := range a.opts {
		require.Contains(t, verbs[a.verb], o.name)
		require.NotEmpty(t, o.value)
		off := offset(o.pos)
		require.True(t, strings.HasPrefix(text[off:], o.name+"="), "%q: option %s positioned at %q", text, o.name, text[off:])
		eq := off + len(o.name)
		quoted := text[eq+1] == '"'
		if quoted {
			require.Equal(t, eq+2, offset(o.valuePos), "%q: option %s: value positioned away from its quote", text, o.name)
			canonical += " " + o.name + "=" + strconv.Quote(o.value)
			continue
		}
		require.Equal(t, eq+1, offset(o.valuePos), "%q: option %s: value positioned away from its '='", text, o.name)
		// An unquoted value runs to the next white space. (In valid UTF-8:
		// elsewhere what a white space is depends on how bytes are decoded.)
		if utf8.ValidString(text) {
			want := text[eq+1:]
			if end := strings.IndexFunc(want, unicode.IsSpace); end >= 0 {
				want = want[:end]
			}
			require.Equal(t, want, o.value, "%q: option %s: unquoted value is not the text up to the next space", text, o.name)
		} else {
			require.True(t, strings.HasPrefix(text[eq+1:], o.value), "%q: option %s: unquoted value %q is not in the text", text, o.name, o.value)
		}
		canonical += " " + o.name + "=" + o.value
	}

	p := &parser{}
	again := p.parseAnnotation(canonical, fuzzPos, "Get")
	require.Empty(t, p.errs, "%q written out as %q does not parse", text, canonical)
	require.NotNil(t, again)
	require.Equal(t, a.verb, again.verb)
	require.Len(t, again.opts, len(a.opts), "%q written out as %q", text, canonical)
	for i, o := range a.opts {
		require.Equal(t, o.name, again.opts[i].name)
		require.Equal(t, o.value, again.opts[i].value, "%q written out as %q: option %s changed", text, canonical, o.name)
	}
}

// requireDepsRoundTrip checks that parseDeps reports problems in the
// comment and only with ok false, and that the tags rebuilt from its
// segments are the tags of the value, trimmed.
func requireDepsRoundTrip(t *testing.T, text string, p *parser, o *option) {
	t.Helper()
	before := len(p.errs)
	tags, templates, ok := p.parseDeps(o, "Get")
	errs := p.errs[before:]
	requireInComment(t, text, errs)
	require.Equal(t, ok, len(errs) == 0, "%q: ok is %v, problems %v", text, ok, errs)
	if !ok {
		return
	}
	// Positions of segments are exact when the value is written as it
	// reads: no escapes (as valueAt assumes).
	verbatim := strings.HasPrefix(text[offset(o.valuePos):], o.value)
	parts := strings.Split(o.value, ",")
	require.Len(t, tags, len(parts), "%q", text)
	require.Len(t, templates, len(parts), "%q", text)
	for i, part := range parts {
		want := strings.TrimSpace(part)
		segs := make([]string, len(tags[i]))
		for j, s := range tags[i] {
			segs[j] = s.text
			if s.param != nil {
				require.Empty(t, s.text)
				require.NotContains(t, s.param, "")
				segs[j] = "<" + strings.Join(s.param, ".") + ">"
			}
			if verbatim {
				require.LessOrEqual(t, offset(s.pos), len(text), "%q: segment %q positioned past the comment", text, segs[j])
				require.True(t, strings.HasPrefix(text[offset(s.pos):], segs[j]),
					"%q: segment %q positioned at %q", text, segs[j], text[offset(s.pos):])
			}
		}
		require.Equal(t, want, strings.Join(segs, ":"), "%q: tag %d rebuilt from its segments", text, i)
		require.Equal(t, want, templates[i], "%q: template %d", text, i)
	}
}
