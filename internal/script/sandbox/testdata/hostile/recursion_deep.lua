-- expect: error: stack overflow
-- Plain deep recursion.
local function f(n) return 1 + f(n + 1) end
function hostile(call)
  return f(0)
end
