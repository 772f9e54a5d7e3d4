-- expect: ok
-- Built-in functions cannot carry state.
function hostile(call)
  pcall(function() print.x = 1 end)
  pcall(rawset, print, "x", 1)
  pcall(setmetatable, print, {})
end
function check()
  assert(type(print) == "function")
end
