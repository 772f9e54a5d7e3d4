-- expect: error: pattern too complex
-- A pattern that recurses too deep.
function hostile(call)
  return string.match(string.rep("a", 1000), string.rep("a?", 500))
end
