package generator

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCodecWarnings: a cached result type that loses fields in a shared
// store gets a warning per field, nested ones included, and generation
// goes on; a type that loses nothing gets none. testdata/codec/warnings.txt
// holds the whole list (TestGolden).
func TestCodecWarnings(t *testing.T) {
	var warnings []string
	results, err := Generate(Config{Dir: filepath.Join(testdata, "codec"), Warn: func(w *Error) { warnings = append(warnings, w.Error()) }})
	require.NoError(t, err)
	require.Len(t, results, 1, "the decorator is generated despite the warnings")
	all := strings.Join(warnings, "\n")
	for _, want := range []string{
		"repo.go:111:2: Account: result *Account: field secret is unexported; a shared store (LMDB, Redis) does not keep it",
		"Account: result *Account: field Owner.email is unexported",   // through a pointer
		"Account: result *Account: field Items[i].note is unexported", // through a slice
		"Account: result *Account: field Base.etag is unexported",     // embedded
		"Account: result *Account: field Tree.label is unexported",    // recursive, once
		"Items: result []Item: field [i].Created is a time.Time",      // a time.Time loses its location
		"Opaque: result Opaque has no exported fields",                // nothing kept at all
		"Event: result Event: field Payload is an interface (any)",    // decoded generically
	} {
		assert.Contains(t, all, want)
	}
	assert.Equal(t, 1, strings.Count(all, "Tree.label"), "a recursive type is walked once")
	for _, clean := range []string{"Clean:", "Kelvins:", "Save:"} {
		assert.NotContains(t, all, clean, "a result that loses nothing, or a write, gets no warning")
	}
}

// TestCodecErrors: a cached result the codec cannot encode or decode at
// all is an error: a shared store would never hold it.
func TestCodecErrors(t *testing.T) {
	_, err := Generate(Config{Dir: filepath.Join(testdata, "errors_codec")})
	var errs Errors
	require.ErrorAs(t, err, &errs)
	var methods []string
	for _, e := range errs {
		methods = append(methods, e.Method)
	}
	assert.Equal(t, []string{"Feed", "Feed", "Wave", "Kelvin", "Readings", "Ticks", "Embeds", "Embeds"}, methods, "%v", err)
	assert.NotContains(t, err.Error(), "Skipped", "a field tagged msgpack:\"-\" is left out")
	assert.NotContains(t, err.Error(), "hidden", "an unexported field is left out")
}
