-- expect: ok
-- The globals' metatable cannot be changed.
function hostile(call)
  pcall(setmetatable, _G, {__index = function() return "pwned" end})
  pcall(function() getmetatable(_G).__index = function() return "pwned" end end)
end
function check()
  assert(undefined_global == nil, "the globals' metatable was changed")
end
