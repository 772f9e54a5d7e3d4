-- expect: memory
-- table.concat of many references to one big string.
function hostile(call)
  local s = string.rep("x", 1e6)
  local t = {}
  for i = 1, 100 do t[i] = s end
  return table.concat(t)
end
