// The Lua scripts of the Redis transport. Each runs atomically in Redis, so a duplicate check,
// the position it hands out, the stream entry and the trim that follows can never interleave
// with another node's publish. ioredis's `defineCommand` sends them with EVALSHA and falls back
// to EVAL once per connection when Redis does not know the script yet (after a restart).
//
// Every script takes the same four keys: stream, seq, meta, index (see `RedisKeys`), and ARGV[1]
// is a fresh random epoch id, used only when the store has none (it is new or lost its data).

/**
 * Helpers shared by the history scripts. ARGV[2..5]: maxHistory (-1: none), cutoff ms (-1: none),
 * trim batch, feed window.
 */
const PRELUDE = `
local stream, seqKey, meta, index = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local maxHistory, cutoff, batch = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
-- The stream keeps at least the newest 'window' entries (unless older than the cutoff) whatever
-- maxHistory says, so other nodes' feeds still read them; those past maxHistory are hidden.
local window = tonumber(ARGV[5])
local keepInStream = -1
if maxHistory >= 0 then keepInStream = math.max(maxHistory, window) end

local function newest()
  return tonumber(redis.call('GET', seqKey) or '0')
end

-- Positions as integers: Lua's default number format would write 1e+14 past 14 digits.
local function int(n)
  return string.format('%d', n)
end

-- The store's epoch and the position it began after. A store without one is new or lost its
-- data: a new epoch begins, and an index left over (there should be none) is dropped with it.
local function epoch()
  local m = redis.call('HMGET', meta, 'epoch', 'start')
  if not m[1] then
    local start = newest()
    redis.call('HSET', meta, 'epoch', ARGV[1], 'start', int(start))
    redis.call('UNLINK', index)
    return ARGV[1], start
  end
  return m[1], tonumber(m[2])
end

local function positionOf(entryId)
  return tonumber(string.match(entryId, '^%d+'))
end

-- Outside the stream: beyond the count bound and the feed window, or older than the cutoff.
local function gone(pos, at, top)
  return (keepInStream >= 0 and pos <= top - keepInStream) or at < cutoff
end

-- The oldest retained position, given the oldest position the stream holds (top + 1: none).
local function visible(oldest, top)
  if maxHistory >= 0 then return math.max(oldest, top - maxHistory + 1) end
  return oldest
end

-- The index maps an update id to the entry ids of its occurrences in the stream, oldest first,
-- separated by spaces: one entry id unless the publisher reused the id (Mercure makes unique ids
-- a SHOULD, and a cursor resolves to the earliest occurrence still retained). Entries leave the
-- stream oldest first, so the one leaving is always the first of its id's list.
local function unindex(id, entryId)
  local list = redis.call('HGET', index, id)
  if not list then return end
  if list == entryId then
    redis.call('HDEL', index, id)
  elseif string.sub(list, 1, #entryId + 1) == entryId .. ' ' then
    redis.call('HSET', index, id, string.sub(list, #entryId + 2))
  end
end

-- Removes at most 'batch' entries past the stream's bounds from the oldest end, with their index
-- entries. The newest entry always stays in the
-- stream, hidden when past retention, so every node's feed can still read it (everything
-- expired). Returns the oldest position the stream holds (top + 1 when none), or false when
-- entries past the bounds remain: the caller calls again, so one call never blocks Redis long.
local function trim(top)
  local removed, last, step = 0, nil, 1
  while true do
    local want = batch - removed
    if want <= 0 then break end
    local from = '-'
    if last then from = '(' .. last end
    -- Usually the oldest entry is retained, or one or two left retention with this publish: ask
    -- for one entry, then twice as many each round, so a publish does not copy a whole batch of
    -- entries into Lua to keep them all.
    local entries = redis.call('XRANGE', stream, from, '+', 'COUNT', math.min(want, step))
    step = math.min(step * 2, 128)
    if #entries == 0 then
      if last then redis.call('XTRIM', stream, 'MINID', int(positionOf(last) + 1) .. '-0') end
      return top + 1
    end
    for _, e in ipairs(entries) do
      local pos, f = positionOf(e[1]), e[2]
      local keep = not gone(pos, tonumber(f[4]), top)
      if keep or pos >= top then
        if last then redis.call('XTRIM', stream, 'MINID', e[1]) end
        if keep then return pos end
        return top + 1
      end
      unindex(f[2], e[1])
      removed, last = removed + 1, e[1]
    end
  end
  redis.call('XTRIM', stream, 'MINID', int(positionOf(last) + 1) .. '-0')
  return false
end
`;

/**
 * Publish. ARGV[6..8]: update id, creation time (ms), payload. Returns `{1, position, epoch,
 * start}`. A reused id is stored too, its entry appended to the id's index list (so appending
 * costs O(occurrences retained), which only a publisher reusing one id for everything pays).
 */
export const PUBLISH_LUA = `${PRELUDE}
local ep, start = epoch()
local pos = redis.call('INCR', seqKey)
local entryId = int(pos) .. '-0'
local added = redis.pcall('XADD', stream, entryId, 'i', ARGV[6], 't', ARGV[7], 'd', ARGV[8])
if type(added) == 'table' and added.err then
  -- Scripts do not roll back: give the position back rather than leave a hole in the order.
  redis.call('SET', seqKey, int(pos - 1))
  return added
end
local prev = redis.call('HGET', index, ARGV[6])
if prev then
  redis.call('HSET', index, ARGV[6], prev .. ' ' .. entryId)
else
  redis.call('HSET', index, ARGV[6], entryId)
end
trim(pos)
return {1, pos, ep, start}
`;

/**
 * Reads, after trimming what left retention (so a read never sees it; entries kept only for the
 * feed window are hidden). ARGV[6]: the operation, ARGV[7..]: its arguments. Every reply starts with `epoch, start, oldest, newest`; a reply of
 * `{'more'}` means the trim is not finished and the caller must call again.
 * - `meta` [from to]: no trim; the first fields (oldest is returned as -1: unknown), then, with
 *   a range, the stream's first position (-1: empty) and `position, id, …` of the entries in it.
 * - `bounds`: just the first fields.
 * - `read` after until limit: then the entries with after < position <= until, at most limit.
 * - `position` id: then the id's position, or -1 when it is not retained.
 * - `last`: then 1 and the newest retained update's id, or 0.
 */
export const VIEW_LUA = `${PRELUDE}
local ep, start = epoch()
local top = newest()
local op = ARGV[6]
if op == 'meta' then
  -- ARGV[6..7]: positions the caller delivered; it compares their ids with what the stream holds
  -- now (a store that lost writes and handed their positions out again holds other ids). Returns
  -- the oldest entry's position (-1: none) and position, id pairs of the entries in that range.
  local from, to = tonumber(ARGV[7] or '0'), math.min(tonumber(ARGV[8] or '0'), top)
  if from <= 0 or from > to then return {ep, start, -1, top} end
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  if not first[1] then return {ep, start, -1, top, -1, {}} end
  local pairs = {}
  for _, e in ipairs(redis.call('XRANGE', stream, int(from), int(to))) do
    pairs[#pairs + 1] = positionOf(e[1])
    pairs[#pairs + 1] = e[2][2]
  end
  return {ep, start, -1, top, positionOf(first[1][1]), pairs}
end
local oldest = trim(top)
if not oldest then return {'more'} end
oldest = visible(oldest, top)
if op == 'read' then
  local from = math.max(tonumber(ARGV[7]) + 1, oldest)
  local to = math.min(tonumber(ARGV[8]), top)
  local limit = tonumber(ARGV[9])
  if from > to or limit <= 0 then return {ep, start, oldest, top, {}} end
  return {ep, start, oldest, top, redis.call('XRANGE', stream, int(from), int(to), 'COUNT', limit)}
end
if op == 'position' then
  -- The earliest retained occurrence: occurrences still in the stream but hidden (past
  -- retention, kept for the feed window) come first and are skipped.
  local list = redis.call('HGET', index, ARGV[7])
  if list then
    for entryId in string.gmatch(list, '%S+') do
      local pos = positionOf(entryId)
      if pos > top then break end
      if pos >= oldest then return {ep, start, oldest, top, pos} end
    end
  end
  return {ep, start, oldest, top, -1}
end
if op == 'last' then
  if oldest > top then return {ep, start, oldest, top, 0} end
  local e = redis.call('XRANGE', stream, int(top), int(top))
  if not e[1] then return {ep, start, oldest, top, 0} end
  return {ep, start, oldest, top, 1, e[1][2][2]}
end
return {ep, start, oldest, top}
`;

/**
 * Begins a new epoch when the current one is still ARGV[2] (compare-and-set, so nodes that notice
 * the same loss together begin one epoch, not several). The index goes with the old epoch: no id
 * stored before resolves to a position of the new one. Returns `epoch, start, newest`.
 */
export const ROTATE_LUA = `
local stream, seqKey, meta, index = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local top = tonumber(redis.call('GET', seqKey) or '0')
local current = redis.call('HGET', meta, 'epoch')
if (not current) or current == ARGV[2] then
  redis.call('HSET', meta, 'epoch', ARGV[1], 'start', string.format('%d', top))
  redis.call('UNLINK', index)
end
local m = redis.call('HMGET', meta, 'epoch', 'start')
return {m[1], tonumber(m[2]), top}
`;

// Presence. KEYS[1]: the nodes sorted set, KEYS[2]: this node's hash. ARGV[1]: TTL ms, ARGV[2]:
// node id. Expiry uses Redis's clock (TIME), so nodes with skewed clocks agree on who is alive.
const PRESENCE_PRELUDE = `
local nodes, mine = KEYS[1], KEYS[2]
local ttl, node = tonumber(ARGV[1]), ARGV[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Adds entries (ARGV[3..]: field, value pairs) and refreshes this node. */
export const PRESENCE_ADD_LUA = `${PRESENCE_PRELUDE}
if #ARGV > 2 then redis.call('HSET', mine, unpack(ARGV, 3)) end
redis.call('PEXPIRE', mine, ttl)
redis.call('ZADD', nodes, now + ttl, node)
return 1
`;

/**
 * Replaces this node's hash with ARGV[3..] (field, value pairs) in one step and refreshes the
 * node: after a write that failed, the hash may hold entries removed since or miss some added.
 */
export const PRESENCE_REWRITE_LUA = `${PRESENCE_PRELUDE}
redis.call('DEL', mine)
for i = 3, #ARGV, 1000 do
  redis.call('HSET', mine, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('PEXPIRE', mine, ttl)
redis.call('ZADD', nodes, now + ttl, node)
return 1
`;

/** Refreshes this node; returns 0 when its hash is gone (the store lost it), so it is re-added. */
export const PRESENCE_REFRESH_LUA = `${PRESENCE_PRELUDE}
redis.call('ZADD', nodes, now + ttl, node)
return redis.call('PEXPIRE', mine, ttl)
`;

/**
 * KEYS[1]: the nodes sorted set. Drops nodes past their expiry and returns the live ones (at
 * most one per hub process: the work is bounded by the number of hubs). Their hashes are read
 * from the client, one bounded HSCAN page or HGET at a time.
 */
export const PRESENCE_NODES_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;
