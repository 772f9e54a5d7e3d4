-- expect: memory
-- One concatenation of many big operands.
function hostile(call)
  local s = string.rep("x", 3e6)
  local u = s .. s .. s .. s .. s .. s .. s .. s
end
