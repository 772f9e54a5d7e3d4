-- expect: memory
-- gsub with an expanding replacement.
function hostile(call)
  return string.gsub(string.rep("a", 1e6), "a", string.rep("b", 100))
end
