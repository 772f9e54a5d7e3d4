-- expect: timeout
-- The classic backtracking pattern.
function hostile(call)
  return string.find(string.rep("a", 50000), ".-.-.-.-.-b")
end
