-- expect: ok
-- The string metatable cannot be changed.
function hostile(call)
  pcall(function() getmetatable("").__index = {upper = function() return "pwned" end} end)
  pcall(function() getmetatable("").__index.upper = function() return "pwned" end end)
  pcall(rawset, getmetatable(""), "__index", {})
  pcall(rawset, getmetatable("").__index, "upper", function() return "pwned" end)
  pcall(function() getmetatable("").__metatable = nil end)
  pcall(setmetatable, getmetatable(""), {})
  pcall(function() getmetatable("").__add = function() return "pwned" end end)
end
function check()
  assert(("abc"):upper() == "ABC", "string methods were changed")
  assert(not pcall(function() return "a" + {} end))
end
