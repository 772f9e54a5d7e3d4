-- expect: timeout
-- Tail calls never grow the stack.
local function f(n) return f(n + 1) end
function hostile(call)
  return f(0)
end
