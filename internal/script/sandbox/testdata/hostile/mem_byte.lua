-- expect: error: string slice too long
-- string.byte of a whole big string.
function hostile(call)
  return string.byte(string.rep("x", 1e6), 1, -1)
end
