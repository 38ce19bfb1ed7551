package runtime

// CachedError returns the error a cache hit gives back for a cached
// sentinel error whose message was msg when it was loaded: sentinel itself
// when msg is its own message, and otherwise an error whose Error is msg
// and which wraps sentinel, so that errors.Is and errors.As find it.
// "article 2: not found", returned by the repository as
// fmt.Errorf("article %d: %w", id, ErrNotFound), reaches later callers with
// its message, not as the bare ErrNotFound. Called by generated code, which
// stores msg beside the sentinel's index.
func CachedError(sentinel error, msg string) error {
	if msg == sentinel.Error() {
		return sentinel
	}
	return &cachedError{sentinel: sentinel, msg: msg}
}

// cachedError is a sentinel error with the message it was wrapped in when
// it was loaded. What wrapped it in between (its other types, %w chains of
// several errors) is not kept: the cache holds the message alone.
type cachedError struct {
	sentinel error
	msg      string
}

func (e *cachedError) Error() string { return e.msg }
func (e *cachedError) Unwrap() error { return e.sentinel }
