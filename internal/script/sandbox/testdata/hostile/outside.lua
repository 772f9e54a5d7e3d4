-- expect: ok
-- Nothing but exec() reaches outside.
local function absent(path)
  local v = _G
  for part in string.gmatch(path, "[^.]+") do
    if type(v) ~= "table" then return true end
    v = v[part]
  end
  return v == nil
end
function hostile(call)
  for _, name in ipairs({"io", "io.open", "os.execute", "os.getenv", "os.exit", "os.remove",
      "os.rename", "os.tmpname", "require", "load", "loadstring", "dofile", "loadfile",
      "debug", "debug.getinfo", "package", "package.loadlib", "string.dump", "getfenv",
      "setfenv", "collectgarbage", "module", "newproxy", "coroutine", "channel", "_printregs"}) do
    assert(absent(name), name .. " is reachable")
  end
  assert(not pcall(function() getmetatable("").__index.dump = 1 end))
  assert(not pcall(function() return getmetatable("").__index.dump() end))
  assert(rawget(_G, "io") == nil and rawget(string, "dump") == nil)
  assert(not pcall(setmetatable, string, {__index = function() return os end}))
  assert(getmetatable(getmetatable("")) == false)
end
