-- expect: error: stack overflow
-- gsub callbacks that recurse.
local function f(s) return (string.gsub(s, ".", f)) end
function hostile(call)
  return f("ab")
end
