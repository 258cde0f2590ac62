-- Runs once per VM, before any script: wires redis.call/pcall, the error
-- handler that records the script line of an error (as Redis 7 does), and
-- locks the globals and library tables so scripts cannot change them.
local call_raw, call = ...
local getinfo = debug.getinfo
local type, tostring, error, xpcall, setmetatable, rawset, pairs, ipairs, select =
    type, tostring, error, xpcall, setmetatable, rawset, pairs, ipairs, select
local sfind, ssub = string.find, string.sub
local G = _G

-- FUNCTION LOAD sees only the library API (redis.register_function, log,
-- LOG_*, REDIS_VERSION*), as in Redis 7; scripts and function bodies never
-- see register_function.
local library_api = {register_function = redis.register_function, log = redis.log}
for _, k in ipairs({'LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE', 'LOG_WARNING',
    'REDIS_VERSION', 'REDIS_VERSION_NUM'}) do
  library_api[k] = redis[k]
end
redis.register_function = nil

redis.call = call
redis.pcall = function(...)
  return (call_raw({...}, select('#', ...)))
end

-- The first frame that is user code: not C, not this file.
local function user_frame()
  for level = 3, 40 do
    local i = getinfo(level, 'Sl')
    if not i then return nil end
    if i.what ~= 'C' and i.source ~= '=basalt' then return i end
  end
end

-- Errors raised by Rust functions arrive as userdata; their text is cut
-- at the first line (mlua appends a traceback). A leading \1 marks a
-- message that is already final.
local function rust_error_text(e)
  e = tostring(e)
  local nl = sfind(e, '\n', 1, true)
  if nl then e = ssub(e, 1, nl - 1) end
  if ssub(e, 1, 15) == 'runtime error: ' then e = ssub(e, 16) end
  return e
end

local function handler(e)
  local i = user_frame()
  if type(e) == 'userdata' then
    e = rust_error_text(e)
    if ssub(e, 1, 1) == '\1' then
      e = {err = ssub(e, 2)}
    elseif i then
      e = {err = 'ERR ' .. ssub(i.source, 2) .. ':' .. i.currentline .. ': ' .. e}
    else
      e = {err = 'ERR ' .. e}
    end
  elseif type(e) ~= 'table' then
    e = {err = 'ERR ' .. tostring(e)}
  end
  if i then
    e.source = i.source
    e.line = i.currentline
  end
  return e
end

local function run(f, a, b)
  return xpcall(function() return f(a, b) end, handler)
end

-- Library loading reports plain text, without script positions.
local function load_handler(e)
  if type(e) == 'userdata' then
    e = rust_error_text(e)
    if ssub(e, 1, 1) == '\1' then return ssub(e, 2) end
    return 'ERR ' .. e
  elseif type(e) == 'table' then
    return tostring(e.err)
  end
  return 'ERR ' .. tostring(e)
end


local function readonly_error()
  error('Attempt to modify a readonly table', 2)
end
-- Redis 7 marks _G, the libraries and their metatables read-only inside
-- its patched Lua VM. Stock Lua 5.1 has no such flag, so each protected
-- table is an empty proxy (reads go to the real table, writes raise
-- Redis's error) and the functions that bypass __newindex (rawset,
-- setmetatable, table.insert ...) check `protected` first.
local protected = setmetatable({}, {__mode = 'k'})
-- What getmetatable returns for a protected table: nil for the libraries,
-- as in Redis, and a read-only view of _G's metatable.
local metatable_views = setmetatable({}, {__mode = 'k'})
local function protect(t)
  local p = setmetatable({}, {__index = t, __newindex = readonly_error, __metatable = false})
  protected[p] = true
  return p
end

-- A script stopped by SCRIPT KILL must not catch that with pcall/xpcall:
-- those re-raise the kill error.
local pcall, select, unpack, sfind_plain = pcall, select, unpack, string.find
local function is_kill(e)
  return type(e) == 'userdata' and sfind_plain(tostring(e), '\1ERR Script killed', 1, true) ~= nil
end
local function rethrow_kill(ok, ...)
  if not ok and is_kill((...)) then error((...), 0) end
  return ok, ...
end
-- Redis 7's pcall also turns an error table into its text, so
-- `pcall(redis.call, ...)` gives the error message as a string.
local function error_text(ok, ...)
  if not ok then
    local e = ...
    if type(e) == 'table' and type(e.err) == 'string' then return false, e.err end
  end
  return ok, ...
end
-- Errors raised by Rust functions (cjson, redis.log ...) reach pcall as
-- mlua userdata with a traceback; Redis's C functions raise plain text.
local function plain_error(e)
  if type(e) == 'userdata' then
    e = rust_error_text(e)
    if ssub(e, 1, 1) == '\1' then e = ssub(e, 2) end
  end
  return e
end
local function error_value(ok, ...)
  if ok then return ok, ... end
  return false, plain_error((...))
end
local safe_pcall = function(f, ...)
  return error_text(error_value(rethrow_kill(pcall(f, ...))))
end
local safe_xpcall = function(f, h)
  return rethrow_kill(xpcall(f, function(e)
    if is_kill(e) then return e end
    if type(e) == 'userdata' then
      local final = ssub(rust_error_text(e), 1, 1) == '\1'
      e = plain_error(e)
      -- A C function's error names the line that called it; the stack is
      -- still there: 1 is this handler, 2 the Rust function, 3 its caller.
      local i = getinfo(3, 'Sl')
      if not final and i and i.what ~= 'C' and i.currentline > 0 then
        e = i.short_src .. ':' .. i.currentline .. ': ' .. e
      end
    end
    return h(e)
  end))
end

local env = {}
for k, v in pairs(G) do env[k] = v end
for _, name in ipairs({'dofile', 'loadfile', 'print', 'getfenv', 'setfenv',
    'newproxy', 'module', 'require', 'debug', 'package', 'io', 'os'}) do
  env[name] = nil
end
env.pcall = safe_pcall
env.xpcall = safe_xpcall
env.rawset = function(t, k, v)
  if protected[t] then error('Attempt to modify a readonly table', 0) end
  return rawset(t, k, v)
end
local getmetatable, raw_setmetatable, tinsert, tremove, tsort =
    getmetatable, setmetatable, table.insert, table.remove, table.sort
-- Argument errors of the wrapped built-ins name the script's line, as the
-- built-ins' own do (level 3: the wrapper's caller).
local function arg_error(n, name, why)
  error('bad argument #' .. n .. " to '" .. name .. "' (" .. why .. ')', 3)
end
env.setmetatable = function(t, mt)
  if type(t) ~= 'table' then arg_error(1, 'setmetatable', 'table expected, got ' .. type(t)) end
  if protected[t] then error('Attempt to modify a readonly table', 0) end
  local r = raw_setmetatable(t, mt)
  return r
end
env.getmetatable = function(t)
  if protected[t] then return metatable_views[t] end
  local r = getmetatable(t)
  return r
end
-- table.insert / remove / sort write with rawset from C: a protected
-- proxy would be changed under its read-only face.
local function table_writer(f)
  return function(t, ...)
    if protected[t] then error('Attempt to modify a readonly table', 0) end
    return f(t, ...)
  end
end
local table_lib = {}
for k, v in pairs(table) do table_lib[k] = v end
table_lib.insert = table_writer(tinsert)
table_lib.remove = table_writer(tremove)
table_lib.sort = table_writer(tsort)
env.table = table_lib

-- Redis's Lua parses every chunk as text, so a precompiled (binary) chunk,
-- which starts with ESC, fails to load like any bad source: loadstring
-- returns nil and the syntax error Redis's parser gives for the ESC byte.
local sbyte, sgsub, loadstring, load = string.byte, string.gsub, loadstring, load
local function binary_chunk_error(chunkname)
  -- The same chunk name Lua would derive (first line, truncated).
  local _, e = loadstring('?', chunkname)
  return (sgsub(e, "'%?'$", "'char(27)'"))
end
env.loadstring = function(s, chunkname)
  local ts = type(s)
  if ts ~= 'string' and ts ~= 'number' then
    arg_error(1, 'loadstring', 'string expected, got ' .. (s == nil and 'no value' or ts))
  end
  if ts == 'string' and sbyte(s, 1) == 27 then
    return nil, binary_chunk_error(chunkname or s)
  end
  local f, e = loadstring(s, chunkname)
  return f, e
end
env.load = function(reader, chunkname)
  local binary, first = false, true
  local function checked()
    local piece = reader()
    if first and type(piece) == 'string' and piece ~= '' then
      first = false
      if sbyte(piece, 1) == 27 then binary = true; return nil end
    end
    return piece
  end
  local f, e = load(checked, chunkname)
  if binary then return nil, binary_chunk_error(chunkname or '=(load)') end
  return f, e
end
for _, name in ipairs({'redis', 'string', 'table', 'math', 'coroutine',
    'cjson', 'cmsgpack', 'struct', 'bit'}) do
  env[name] = protect(env[name])
end
local string_mt = getmetatable('')
string_mt.__index = env.string
string_mt.__metatable = protect({__index = env.string})
env._G = G

local function nonexistent(k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 3)
end
-- Redis's error metatable: names `get` does not know are errors, and the
-- table is read-only.
local function strict_metatable(get)
  return {
    __index = function(_, k)
      local v = get(k)
      if v == nil then nonexistent(k) end
      return v
    end,
    __newindex = readonly_error,
    __metatable = false,
  }
end
local load_redis = setmetatable({}, strict_metatable(function(k) return library_api[k] end))
protected[load_redis] = true
local load_env = {redis = load_redis}

-- What unknown globals resolve to: the script environment, or the library
-- API while FUNCTION LOAD runs a library's code (functions defined then
-- still see the script environment when they run).
local lookup = env
local names = {}
for k in pairs(G) do names[#names + 1] = k end
for _, k in ipairs(names) do G[k] = nil end
local globals_mt = strict_metatable(function(k) return lookup[k] end)
setmetatable(G, globals_mt)
protected[G] = true
local globals_mt_view = protect(globals_mt)
metatable_views[G] = globals_mt_view

local function load(f)
  lookup = load_env
  local ok, e = xpcall(f, load_handler)
  lookup = env
  return ok, e
end

return env, run, load
