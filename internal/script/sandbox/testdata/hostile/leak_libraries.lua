-- expect: ok
-- The libraries cannot be changed.
function hostile(call)
  for _, lib in ipairs({"string", "table", "math", "os", "log", "json"}) do
    pcall(function() _G[lib].leaked = true end)
    pcall(rawset, _G[lib], "leaked", true)
    pcall(setmetatable, _G[lib], {__index = function() return "pwned" end})
  end
  pcall(function() math.floor = function() return 0 end end)
  pcall(function() table.insert = nil end)
end
function check()
  for _, lib in ipairs({"string", "table", "math", "os", "log", "json"}) do
    assert(_G[lib].leaked == nil, lib .. " was changed")
  end
  assert(math.floor(2.5) == 2 and table.insert ~= nil)
end
