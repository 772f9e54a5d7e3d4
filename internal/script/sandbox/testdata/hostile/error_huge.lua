-- expect: error: xxxxxxxx
-- A huge error message is cut.
function hostile(call)
  error(string.rep("x", 1e6))
end
