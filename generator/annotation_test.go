package generator

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/generator/internal/model"
)

// TestUnquotedValuesKeepTheirCharacters: bytes of multi-byte characters
// that are spaces on their own (0xA0 in à) do not end an unquoted value.
func TestUnquotedValuesKeepTheirCharacters(t *testing.T) {
	for text, want := range map[string]string{
		"//zoo:cache deps=città:<id> ttl=1m": "città:<id>",
		"//zoo:cache deps=хлеб:<id>":         "хлеб:<id>",
		"//zoo:cache deps=Å":                 "Å",
		"//zoo:cache deps=x\u00a0ttl=1m":     "x",
	} {
		p := &parser{}
		a := p.parseAnnotation(text, model.Pos{File: "f.go", Line: 1, Col: 1}, "M")
		require.NotNil(t, a, "%q: %v", text, p.errs)
		assert.Equal(t, want, a.option("deps").value, text)
	}
}
