-- expect: error: stack overflow
-- Mutual recursion.
local g
local function f(n) return 1 + g(n) end
g = function(n) return 1 + f(n) end
function hostile(call)
  return f(0)
end
