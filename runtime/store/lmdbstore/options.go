package lmdbstore

import (
	"log/slog"
	"time"

	"github.com/zoogen/zoogen/runtime/store/codec"
)

// DefaultMapSize is the size of the memory map, and so the largest the file
// can grow to: 1 GiB. The file is sparse and grows with its contents; the
// map costs address space, not memory.
const DefaultMapSize = 1 << 30

// MinMapSize is the smallest map size [WithMapSize] accepts: 1 MiB.
const MinMapSize = 1 << 20

// DefaultPollInterval is how often a store looks for invalidations made by
// other processes; see [WithPollInterval].
const DefaultPollInterval = 2 * time.Millisecond

// DefaultReapInterval is how often expired entries are deleted; see
// [WithReapInterval].
const DefaultReapInterval = 5 * time.Second

// DefaultMaxReaders is the number of read transactions the processes
// sharing a file can have open at once. It is fixed by the first process
// that opens the file.
const DefaultMaxReaders = 1024

// defaultLogLimit bounds the invalidation log of a DefaultMapSize file.
const defaultLogLimit = 100_000

// An Option configures a [Store] made by [Open].
type Option func(*config)

type config struct {
	mapSize  int64
	logger   *slog.Logger
	codec    codec.Codec
	poll     time.Duration
	reap     time.Duration
	logLimit uint64 // 0: from the map size
}

func defaultConfig() config {
	return config{
		mapSize: DefaultMapSize,
		logger:  slog.Default(),
		poll:    DefaultPollInterval,
		reap:    DefaultReapInterval,
	}
}

// WithMapSize sets the size of the memory map in bytes, the most the file
// holds; the default is [DefaultMapSize], the least [MinMapSize]. When the
// entries fill it, the store evicts those that expire first to make room.
//
// Processes sharing a file should use one size. A process asking for less
// than the file already has uses the file's size.
func WithMapSize(bytes int64) Option { return func(c *config) { c.mapSize = bytes } }

// WithLogger sets the logger for corrupt entries, evictions and stale
// readers; the default is slog.Default(). Warnings are rate-limited.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithCodec sets how entries are framed; see codec.Codec. Processes sharing
// a file must use codecs that read each other's frames.
func WithCodec(cd codec.Codec) Option { return func(c *config) { c.codec = cd } }

// WithPollInterval sets how often the store looks for invalidations made by
// other processes: the longest an invalidation takes to reach a cache in
// local mode (runtime.Local), plus the time to deliver it. The default is
// [DefaultPollInterval]; a poll is one read transaction.
func WithPollInterval(d time.Duration) Option { return func(c *config) { c.poll = d } }

// WithReapInterval sets how often expired entries are deleted from the file
// (they are never served in between); the default is
// [DefaultReapInterval]. The processes sharing a file take turns.
func WithReapInterval(d time.Duration) Option { return func(c *config) { c.reap = d } }
