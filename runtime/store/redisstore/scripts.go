package redisstore

import "github.com/redis/go-redis/v9"

// The scripts share these Lua helpers. Versions are 18-digit strings: 13
// digits of Unix milliseconds and 5 of a logical counter, so that string
// order is time order and Lua (whose numbers are doubles) never does 64-bit
// arithmetic on them.
const luaHelpers = `
local function fmt(ms, l) return string.format('%013.0f%05.0f', ms, l) end
local function succ(v)
  local ms, l = tonumber(string.sub(v, 1, 13)), tonumber(string.sub(v, 14))
  if l < 65535 then return fmt(ms, l + 1) end
  return fmt(ms + 1, 0)
end
local function servertime()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function runid() return string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') end
-- clock returns the last version issued. The clock hash records the
-- version (field 'c') and the run_id of the server process that issued it
-- (field 's'). A clock without that field, or with another server's
-- run_id, may have lost versions it issued (Redis restarted, perhaps from
-- an old snapshot; a replica was promoted; the key was flushed or
-- evicted): it starts again from the server's time, which a restart or a
-- failover has carried past every version the lost clock issued, and from
-- what it still holds.
-- The second result is 1 when the clock starts again: the caller then
-- checks every shard, raising the horizons of those that need a new epoch
-- to the first result, and only then starts the clock (create true), no
-- earlier than min (the latest horizon, or nil), so that no version read
-- from it precedes a horizon.
local function clock(key, create, min)
  local id = runid()
  local cs = redis.call('HMGET', key, 'c', 's')
  if cs[1] and cs[2] == id then return cs[1], 0 end
  local now = fmt(servertime(), 0)
  if cs[1] and cs[1] >= now then now = succ(cs[1]) end
  if min and min > now then now = min end
  if create then redis.call('HSET', key, 'c', now, 's', id) end
  return now, 1
end
-- shardepoch checks a shard of the tag versions. The shard records, in
-- field 's', the run_id of the server process that holds it. A shard
-- without its horizon (field 'h'), without that field, or with another
-- server's run_id has lost versions or may have: a new epoch starts, its
-- horizon v (a version issued after every one this shard may have lost),
-- so that nothing loaded before can be served. It returns the horizon and
-- 1 for a new epoch, which the caller announces on the channel (a message
-- of a version and no tags) so that memory tiers drop what they hold.
local function shardepoch(shard, v)
  local id = runid()
  local hs = redis.call('HMGET', shard, 'h', 's')
  if hs[1] and hs[2] == id then return hs[1], 0 end
  local h = v
  if hs[1] and hs[1] > h then h = hs[1] end
  redis.call('HSET', shard, 'h', h, 's', id)
  return h, 1
end
`

// nowScript returns a version no earlier than any issued: the asOf of a
// load, and 1 when the clock started again (0 otherwise). It records the
// server time as the last version when that is later, so that a version
// issued afterwards is later still even if the server clock steps back.
// A clock that starts again is written only with ARGV[1] '1', once the
// caller has checked the shards, from no earlier than ARGV[2] (their
// latest horizon); without, the result is {version, 1}, where the version
// is the one the clock would start from, and nothing is written.
//
// KEYS: clock. ARGV: create, min version.
var nowScript = redis.NewScript(luaHelpers + `
local now = fmt(servertime(), 0)
local last, new = clock(KEYS[1], ARGV[1] == '1', ARGV[2])
if new == 1 and ARGV[1] ~= '1' then return {last, 1} end
if last >= now then return {last, new} end
redis.call('HSET', KEYS[1], 'c', now)
return {now, new}
`)

// issueScript issues a version later than every one issued and than
// ARGV[1]: the version of an invalidation, or of a new shard epoch; and 1
// when the clock started again.
//
// A clock that starts again is written, and the version issued, only
// with ARGV[2] '1', as in nowScript; without, the result is {version, 1},
// where the version is the one the clock would start from.
//
// KEYS: clock. ARGV: min version, create.
var issueScript = redis.NewScript(luaHelpers + `
local v = fmt(servertime(), 0)
local last, new = clock(KEYS[1], ARGV[2] == '1', nil)
if new == 1 and ARGV[2] ~= '1' then return {last, 1} end
if last >= v then v = succ(last) end
if ARGV[1] >= v then v = succ(ARGV[1]) end
redis.call('HSET', KEYS[1], 'c', v)
return {v, new}
`)

// fallbackScript issues a version on the node of a shard when the clock's
// node does not answer: its server's time plus ARGV[2] milliseconds (a
// bound on the disagreement of the servers' clocks, so that the version
// is later than any the lost clock issued), and later than ARGV[1].
//
// KEYS: shard. ARGV: min version, margin (ms).
var fallbackScript = redis.NewScript(luaHelpers + `
local v = fmt(servertime() + tonumber(ARGV[2]), 0)
if ARGV[1] >= v then v = succ(ARGV[1]) end
return v
`)

// shardScript checks a shard (shardepoch) and raises the version of each
// tag to ARGV[1], a version issueScript issued. With ARGV[3] '1' it also
// publishes the invalidation (the version and the tags ARGV[4]: a
// MessagePack array), once per call of Invalidate whatever the number of
// shards. It returns the shard's horizon and 1 if its epoch is new. With
// no version (ARGV[1] empty), it only looks, and returns 2 for a shard
// that needs a new epoch.
//
// KEYS: shard. ARGV: version, channel, publish, message, tags...
var shardScript = redis.NewScript(luaHelpers + `
local v = ARGV[1]
if v == '' then
  -- Only look: 2 if the shard needs a new epoch.
  local hs = redis.call('HMGET', KEYS[1], 'h', 's')
  if hs[1] and hs[2] == runid() then return {hs[1], 0} end
  return {hs[1] or false, 2}
end
local h, new = shardepoch(KEYS[1], v)
for i = 5, #ARGV do
  local f = 't:' .. ARGV[i]
  local old = redis.call('HGET', KEYS[1], f)
  if not old or old < v then redis.call('HSET', KEYS[1], f, v) end
end
if ARGV[3] == '1' then redis.call('PUBLISH', ARGV[2], ARGV[4]) end
return {h, new}
`)

// setScript stores an entry, replacing what was stored under its key, with
// the versions its tags had when the store checked them (in their shards,
// just before), for readers to catch up from.
//
// KEYS: entry. ARGV: frame, asOf, tags (MessagePack array), tag versions
// (MessagePack array), expiry (Unix ms, 0 for none).
var setScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'a', ARGV[2], 't', ARGV[3], 'tv', ARGV[4])
if ARGV[5] ~= '0' then redis.call('PEXPIREAT', KEYS[1], ARGV[5]) end
return 1
`)

// unlockScript releases a lock if it is still the caller's.
//
// KEYS: lock. ARGV: token.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// horizonScript raises the horizon of a shard to the server time minus
// ARGV[1] milliseconds and returns it (nil for a shard with no horizon).
//
// KEYS: shard.
var horizonScript = redis.NewScript(luaHelpers + `
local h = fmt(servertime() - tonumber(ARGV[1]), 0)
local old = redis.call('HGET', KEYS[1], 'h')
-- A shard without a horizon lost its versions: the next script that
-- checks it starts a new epoch; a horizon here would hide the loss.
if not old then return false end
if old >= h then return old end
redis.call('HSET', KEYS[1], 'h', h)
return h
`)

// forgetScript deletes the given version fields that are older than the
// horizon ARGV[1].
//
// KEYS: shard. ARGV: horizon, fields...
var forgetScript = redis.NewScript(`
local n = 0
for i = 2, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v and v < ARGV[1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
`)

// reportScript stores one instance's report, removes the reports past their
// TTL (so the hash does not gain a field per instance ever started), and
// keeps the hash no longer than the longest TTL of a report in it, so a
// namespace with no live instance loses it.
//
// KEYS: reports. ARGV: instance, report, now (Unix ms), ttl (ms).
var reportScript = redis.NewScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local now = tonumber(ARGV[3])
local keep = tonumber(ARGV[4])
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, r = pcall(cjson.decode, all[i+1])
  if not ok or type(r) ~= 'table' or type(r.at) ~= 'number' or type(r.ttl) ~= 'number' or now - r.at > r.ttl then
    redis.call('HDEL', KEYS[1], all[i])
  else
    local left = r.at + r.ttl - now
    if left > keep then keep = left end
  end
end
if keep < 1 then keep = 1 end
redis.call('PEXPIRE', KEYS[1], keep)
return 1
`)
