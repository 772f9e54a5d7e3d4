-- expect: memory
-- Keeping upper-case copies.
function hostile(call)
  local s = string.rep("x", 4e6)
  local t = {}
  for i = 1, 100 do t[i] = s:upper() end
end
