package redisstore

import (
	"strconv"
	"strings"
)

// shardCount is the number of hashes a namespace's tag versions are split
// into. Their hash tags are chosen so that shard i's slot lies in the i-th
// of shardCount equal ranges of the 16384 slots: a cluster whose masters
// own contiguous ranges, as redis-cli --cluster create assigns them, gets
// an even share of shards on every master.
const shardCount = 32

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// keys are the Redis names of one namespace. Every name starts with the
// hash tag {zoo:<ns>...}: entries and their locks by their key's hash,
// version shards by their number, the clock, channel and reports on one
// slot of their own.
type keys struct {
	ns      string
	prefix  string // {zoo:ns:
	clock   string // {zoo:ns:c}:clock
	channel string // {zoo:ns:c}:inv
	report  string // {zoo:ns:c}:i
	shards  [shardCount]string
}

func newKeys(ns string) keys {
	p := "{zoo:" + ns + ":"
	k := keys{ns: ns, prefix: p, clock: p + "c}:clock", channel: p + "c}:inv", report: p + "c}:i"}
	for i := range k.shards {
		k.shards[i] = p + shardTag(ns, i) + "}:v"
	}
	return k
}

// shardTag returns the tag suffix of shard i: "v<n>", with n the smallest
// number whose hash tag {zoo:ns:v<n>} falls in the shard's range of slots.
func shardTag(ns string, i int) string {
	lo, hi := i*clusterSlots/shardCount, (i+1)*clusterSlots/shardCount
	// A namespace with a brace in its name hashes every key to one slot:
	// no number finds another range, and the search stops.
	for n := 0; n < 64*shardCount; n++ {
		t := "v" + strconv.Itoa(n)
		if s := keySlot("{zoo:" + ns + ":" + t + "}:v"); s >= lo && s < hi {
			return t
		}
	}
	return "v" + strconv.Itoa(i)
}

// keySlot is the hash slot of a key, as Redis Cluster computes it: the
// CRC16 of its hash tag (what lies between the first { and the next }, when
// not empty), or of the whole key.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key)) % clusterSlots
}

// entryTag returns the hash tag of key's entry and lock: {zoo:ns:e<hash>}.
func (k keys) entryTag(key string) string {
	var b []byte
	b = append(b, k.prefix...)
	b = append(b, 'e')
	b = strconv.AppendUint(b, uint64(fnv32(key)), 16)
	b = append(b, '}', ':')
	return string(b)
}

func (k keys) entry(key string) string { return k.entryTag(key) + "e:" + key }
func (k keys) lock(key string) string  { return k.entryTag(key) + "l:" + key }
func (k keys) reports() string         { return k.report }

// shardOf returns the shard that holds the versions of tag and of its
// ancestors but the root: the shard of its first two segments. A tag of
// one segment (a root) has no shard of its own: its version is written to
// every shard, so that any shard answers for it (ok false).
func shardOf(tag string) (shard int, ok bool) {
	i := strings.IndexByte(tag, ':')
	if i < 0 {
		return 0, false
	}
	if j := strings.IndexByte(tag[i+1:], ':'); j >= 0 {
		tag = tag[:i+1+j]
	}
	return int(fnv32(tag) % shardCount), true
}

// homeShard is the shard whose horizon (and copies of root versions) an
// entry of key with no tag of two segments or more is checked against.
func homeShard(key string) int { return int(fnv32(key) % shardCount) }

// shardRead is what a strict read fetches from one shard: the fields of
// the versions hash, the horizon first.
type shardRead struct {
	shard  int
	fields []string
}

// readPlan returns, for an entry of key with tags, the shards to read and
// their fields: the horizon (h) and every path of every tag, as the
// scripts' paths function lists them, each in the shard that holds it.
// Roots ride along with the first tag that has a shard, or go to the key's
// home shard.
func readPlan(key string, tags []string) []shardRead {
	var reads []shardRead
	add := func(shard int, fields ...string) {
		for i := range reads {
			if reads[i].shard == shard {
				reads[i].fields = append(reads[i].fields, fields...)
				return
			}
		}
		reads = append(reads, shardRead{shard: shard, fields: append([]string{"h"}, fields...)})
	}
	var roots []string
	for _, tag := range tags {
		shard, ok := shardOf(tag)
		if !ok {
			roots = append(roots, "t:"+tag)
			continue
		}
		add(shard, tagPaths(tag)...)
	}
	switch {
	case len(reads) > 0:
		reads[0].fields = append(reads[0].fields, roots...)
	default:
		add(homeShard(key), roots...)
	}
	return reads
}

// tagPaths returns the version fields of every path of tag: "a:b:c" is
// checked as t:a, t:a:b and t:a:b:c.
func tagPaths(tag string) []string {
	var fields []string
	for i := 0; i < len(tag); i++ {
		if tag[i] == ':' {
			fields = append(fields, "t:"+tag[:i])
		}
	}
	return append(fields, "t:"+tag)
}

// fnv32 is FNV-1a of s.
func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// crc16 is the CRC16-CCITT (XModem) Redis Cluster hashes keys with.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
