package generator

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestNamerOneSuffixRule: a free base is used as it is; a taken one gets
// the smallest free number from 1 up, whatever the scope (package or
// function), and what the namer hands out is taken from then on.
func TestNamerOneSuffixRule(t *testing.T) {
	n := newNamer("zoo", "_r", "_r1", "context")
	assert.Equal(t, "time", n.fresh("time"))
	assert.Equal(t, "time1", n.fresh("time"))
	assert.Equal(t, "zoo1", n.fresh("zoo"))
	assert.Equal(t, "_r2", n.fresh("_r"))
	assert.Equal(t, "_r11", n.fresh("_r1"))
	assert.True(t, n.isTaken("_r2"))

	var zero namer
	assert.Equal(t, "_k", zero.fresh("_k"), "the zero namer is an empty scope")
	assert.Equal(t, "_k1", zero.fresh("_k"))

	assert.Equal(t, "yaml_v3", zero.fresh("yaml.v3"), "made an identifier")
	assert.Equal(t, "_9p", zero.fresh("9p"))
	assert.Equal(t, "go_yaml", zero.fresh("go-yaml"))
	assert.Equal(t, "func_", zero.fresh("func"))
	assert.Equal(t, "_", zero.fresh(""))
}
