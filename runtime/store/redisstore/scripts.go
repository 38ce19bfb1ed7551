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
-- epoch returns the last version issued. The versions hash records, in
-- field 's', the run_id of the server process that issued them. A namespace
-- without a clock, without that field, or with another server's run_id has
-- lost state or may have: Redis restarted (empty, or from a snapshot older
-- than invalidations it acknowledged), a replica behind its master was
-- promoted, the keys were flushed or evicted. Whatever was loaded before
-- cannot be proved fresh: a new epoch starts, its horizon (field 'h') later
-- than every version issued, and is announced on the channel (a message of
-- a version and no tags) so that memory tiers drop what they hold.
local function epoch(clock, versions)
  local id = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
  local last = redis.call('GET', clock)
  if last and redis.call('HGET', versions, 's') == id then return last end
  local now = fmt(servertime(), 0)
  if last and last >= now then now = succ(last) end
  local h = redis.call('HGET', versions, 'h')
  if h and h >= now then now = succ(h) end
  redis.call('SET', clock, now)
  redis.call('HSET', versions, 'h', now, 's', id)
  -- The channel is the namespace's prefix and 'inv', as the clock is its
  -- prefix and 'clock' (newKeys).
  redis.call('PUBLISH', string.sub(clock, 1, -6) .. 'inv', cmsgpack.pack({now}))
  return now
end
-- paths appends the version fields of every path of every tag: "a:b:c"
-- is checked as t:a, t:a:b and t:a:b:c.
local function paths(tags, fields)
  for _, tag in ipairs(tags) do
    local i = 0
    while true do
      local j = string.find(tag, ':', i + 1, true)
      if not j then break end
      table.insert(fields, 't:' .. string.sub(tag, 1, j - 1))
      i = j
    end
    table.insert(fields, 't:' .. tag)
  end
  return fields
end
`

// nowScript returns a version no earlier than any issued: the asOf of a
// load. It records the server time as the last version when that is later,
// so that a version issued afterwards is later still even if the server
// clock steps back.
//
// KEYS: clock, versions.
var nowScript = redis.NewScript(luaHelpers + `
local now = fmt(servertime(), 0)
local last = epoch(KEYS[1], KEYS[2])
if last >= now then return last end
redis.call('SET', KEYS[1], now)
return now
`)

// invalidateScript issues a version later than every one issued and than
// ARGV[1], raises the version of each tag to it, and publishes it.
//
// KEYS: clock, versions. ARGV: min version, channel, tags...
var invalidateScript = redis.NewScript(luaHelpers + `
local v = fmt(servertime(), 0)
local last = epoch(KEYS[1], KEYS[2])
if last >= v then v = succ(last) end
if ARGV[1] >= v then v = succ(ARGV[1]) end
redis.call('SET', KEYS[1], v)
local msg = {v}
for i = 3, #ARGV do
  local f = 't:' .. ARGV[i]
  local old = redis.call('HGET', KEYS[2], f)
  if not old or old < v then redis.call('HSET', KEYS[2], f, v) end
  table.insert(msg, ARGV[i])
end
redis.call('PUBLISH', ARGV[2], cmsgpack.pack(msg))
return v
`)

// setScript stores an entry unless it is already stale (the stale set of
// memcache-style caches), with the versions its tags have now, for readers
// to catch up from. It returns 1 when it stored the entry.
//
// KEYS: entry, versions, clock. ARGV: frame, asOf, tags (MessagePack
// array), expiry (Unix ms, 0 for none).
var setScript = redis.NewScript(luaHelpers + `
epoch(KEYS[3], KEYS[2])
local fields = paths(cmsgpack.unpack(ARGV[3]), {'h'})
local vs = redis.call('HMGET', KEYS[2], unpack(fields))
local asof = ARGV[2]
if vs[1] and vs[1] > asof then return 0 end
local tv = {}
for i = 2, #fields do
  local v = vs[i]
  if v then
    if v > asof then return 0 end
    table.insert(tv, string.sub(fields[i], 3))
    table.insert(tv, v)
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'a', asof, 't', ARGV[3], 'tv', cmsgpack.pack(tv))
if ARGV[4] ~= '0' then redis.call('PEXPIREAT', KEYS[1], ARGV[4]) end
return 1
`)

// getFreshScript returns the frame of an entry no recorded invalidation
// makes stale, or nil.
//
// KEYS: entry, versions.
var getFreshScript = redis.NewScript(luaHelpers + `
local e = redis.call('HMGET', KEYS[1], 'v', 'a', 't')
if not e[1] then return false end
local fields = paths(cmsgpack.unpack(e[3]), {'h'})
local vs = redis.call('HMGET', KEYS[2], unpack(fields))
-- No horizon: the versions were evicted or deleted; nothing is provable.
if not vs[1] then return false end
for i = 1, #fields do
  if vs[i] and vs[i] > e[2] then return false end
end
return e[1]
`)

// unlockScript releases a lock if it is still the caller's.
//
// KEYS: lock. ARGV: token.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// horizonScript raises the horizon to the server time minus ARGV[1]
// milliseconds and returns it.
//
// KEYS: versions.
var horizonScript = redis.NewScript(luaHelpers + `
local h = fmt(servertime() - tonumber(ARGV[1]), 0)
local old = redis.call('HGET', KEYS[1], 'h')
if old and old >= h then return old end
redis.call('HSET', KEYS[1], 'h', h)
return h
`)

// forgetScript deletes the given version fields that are older than the
// horizon ARGV[1].
//
// KEYS: versions. ARGV: horizon, fields...
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
