-- expect: timeout
-- Mutually tail-recursive functions.
local g
local function f(n) return g(n + 1) end
g = function(n) return f(n + 1) end
function hostile(call)
  return f(0)
end
