-- expect: memory
-- Keeping reversed copies.
function hostile(call)
  local s = string.rep("xy", 2e6)
  local t = {}
  for i = 1, 100 do t[i] = s:reverse() end
end
