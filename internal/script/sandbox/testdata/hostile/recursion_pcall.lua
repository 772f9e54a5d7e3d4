-- expect: ok
-- Recursion through pcall: the overflow is caught at the bottom.
local depth = 0
local function f() depth = depth + 1; pcall(f) end
function hostile(call)
  f()
  assert(depth > 100)
end
