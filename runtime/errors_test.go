package runtime_test

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	zoo "github.com/zoogen/zoogen/runtime"
)

var errNotFound = errors.New("not found")

func TestCachedErrorIsTheSentinelForItsOwnMessage(t *testing.T) {
	assert.Same(t, errNotFound, zoo.CachedError(errNotFound, "not found"))
}

func TestCachedErrorKeepsTheMessage(t *testing.T) {
	loaded := fmt.Errorf("article %d: %w", 2, errNotFound)
	err := zoo.CachedError(errNotFound, loaded.Error())
	assert.EqualError(t, err, "article 2: not found")
	assert.ErrorIs(t, err, errNotFound)
	assert.Equal(t, errNotFound, errors.Unwrap(err))
	assert.NotErrorIs(t, err, fs.ErrNotExist)
}

// A sentinel of a concrete type is found by errors.As through the wrapper.
func TestCachedErrorAs(t *testing.T) {
	sentinel := &fs.PathError{Op: "open", Path: "/nope", Err: fs.ErrNotExist}
	err := zoo.CachedError(sentinel, "config: "+sentinel.Error())
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	assert.Same(t, sentinel, pe)
	assert.ErrorIs(t, err, fs.ErrNotExist, "the sentinel's own chain is followed too")
	assert.Equal(t, "config: open /nope: file does not exist", err.Error())
}

// The generated holder stores the message as a plain string beside the
// sentinel's index: what a byte store round-trips is that string, and the
// error is rebuilt from it on every hit, identical to the first.
func TestCachedErrorFromARoundTrippedHolder(t *testing.T) {
	type holder struct {
		E   int
		Msg string
	}
	b, err := msgpack.Marshal(holder{E: 1, Msg: fmt.Errorf("article 2: %w", errNotFound).Error()})
	require.NoError(t, err)
	var h holder
	require.NoError(t, msgpack.Unmarshal(b, &h))
	got := zoo.CachedError(errNotFound, h.Msg)
	assert.EqualError(t, got, "article 2: not found")
	assert.ErrorIs(t, got, errNotFound)
}
