package redisstore

import "time"

// MinBackoff is the first wait before resubscribing.
const MinBackoff = minBackoff

// OnBackoff makes s tell fn each wait before it resubscribes; call it
// before Attach.
func OnBackoff(s *Store, fn func(time.Duration)) { s.onBackoff = fn }
