-- expect: error: too many captures
-- Too many captures.
function hostile(call)
  return string.match("abc", string.rep("()", 40))
end
