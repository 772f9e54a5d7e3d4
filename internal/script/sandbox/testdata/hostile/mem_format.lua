-- expect: memory
-- string.format of big strings.
function hostile(call)
  local s = string.rep("x", 4e6)
  return string.format("%s%s%s%s%s", s, s, s, s, s)
end
