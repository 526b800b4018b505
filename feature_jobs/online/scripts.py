"""Lua scripts of the online store. Each runs atomically inside Redis.

Every key a script touches carries the view's hash tag (see ``keys.py``), so on a Redis
Cluster a script's keys all live in the slot of the key it declares.
"""

#: Read the live pointer of several views and, in the same atomic step, the stored values
#: of their entities. KEYS: one live pointer per view. ARGV: one string per view, the
#: concatenation for each entity of ``<crc32 of key>:<key length>:<encoded key>`` (one
#: argument instead of two per entity: packing arguments is what costs on the client).
#: Returns, per view, {token, ts, schema, presence, values}: presence holds "1" or "0"
#: per entity, values the present entities' stored rows concatenated with the snapshot's
#: separator (decoded by one parser call); token is nil when nothing is published.
READ = """
local out = {}
for i = 1, #KEYS do
  local p = redis.call('HMGET', KEYS[i], 'token', 'ts', 'schema', 'prefix', 'buckets', 'sep')
  local presence, joined = false, false
  if p[1] then
    local prefix, buckets, blob = p[4], tonumber(p[5]), ARGV[i]
    local flags, vals, pos, j, n = {}, {}, 1, 0, 0
    while pos <= #blob do
      local c1 = string.find(blob, ':', pos, true)
      local c2 = string.find(blob, ':', c1 + 1, true)
      local stop = c2 + tonumber(string.sub(blob, c1 + 1, c2 - 1))
      local bucket = tonumber(string.sub(blob, pos, c1 - 1)) % buckets
      local v = redis.call('HGET', prefix .. bucket, string.sub(blob, c2 + 1, stop))
      j = j + 1
      if v then
        n = n + 1
        vals[n] = v
        flags[j] = '1'
      else
        flags[j] = '0'
      end
      pos = stop + 1
    end
    presence = table.concat(flags)
    joined = table.concat(vals, p[6] or ',')
  end
  out[i] = {p[1], p[2], p[3], presence, joined}
end
return out
"""

#: Make a fully written snapshot the live one, unless a newer one is already live.
#: KEYS: live pointer, snapshot registry, metadata of the new snapshot.
#: ARGV: token, TTL of the pointer in milliseconds.
#: Returns {'ok', previous token or '', live_at micros} | {'newer', token, ts, version}
#: | {'gone'} (the snapshot was retired by a concurrent sync or expired)
#: | {'incomplete', entities stored, entities expected} (Redis lost some of its writes:
#: a restart without persistence, an eviction); the entity count is O(buckets) HLENs.
GO_LIVE = """
local token = ARGV[1]
if not redis.call('ZSCORE', KEYS[2], token) or redis.call('EXISTS', KEYS[3]) == 0 then
  return {'gone'}
end
local new_ts = tonumber(redis.call('HGET', KEYS[3], 'ts'))
local new_version = tonumber(redis.call('HGET', KEYS[3], 'delta_version'))
local cur = redis.call('HMGET', KEYS[1], 'token', 'ts', 'delta_version')
if cur[1] then
  local cur_ts = tonumber(cur[2])
  if cur_ts > new_ts or (cur_ts == new_ts and tonumber(cur[3]) > new_version) then
    return {'newer', cur[1], cur[2], cur[3]}
  end
end
local m = redis.call('HMGET', KEYS[3], 'prefix', 'buckets', 'rows')
local stored = 0
for b = 0, tonumber(m[2]) - 1 do
  stored = stored + redis.call('HLEN', m[1] .. b)
end
if stored ~= tonumber(m[3]) then
  return {'incomplete', tostring(stored), m[3]}
end
local now = redis.call('TIME')
local live_at = now[1] .. string.format('%06d', tonumber(now[2]))
local meta = redis.call('HGETALL', KEYS[3])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(meta))
redis.call('HSET', KEYS[1], 'token', token, 'live_at', live_at, 'logged', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'ok', cur[1] or '', live_at}
"""

#: Take a snapshot out of the registry so it can be deleted, unless it is live.
#: KEYS: live pointer, snapshot registry. ARGV: token. Returns 1 when claimed, else 0.
CLAIM_RETIRE = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  return 0
end
return redis.call('ZREM', KEYS[2], ARGV[1])
"""

#: Record that the live snapshot's publish is in the sync log.
#: KEYS: live pointer. ARGV: token. Returns 1 when marked (the token is still live).
MARK_LOGGED = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'logged', '1')
  return 1
end
return 0
"""
