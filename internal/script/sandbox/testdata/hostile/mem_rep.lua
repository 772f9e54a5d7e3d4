-- expect: memory
-- One huge string.rep.
function hostile(call)
  return string.rep("x", 1e9)
end
