-- expect: timeout
-- Nested greedy items.
function hostile(call)
  return string.match(string.rep("a", 30000), "a*a*a*a*a*c")
end
