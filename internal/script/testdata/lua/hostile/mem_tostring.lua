-- expect: memory
-- Keeping many numbers as strings.
function hostile(call)
  local t = {}
  for i = 1, 1e9 do t[i] = tostring(i) end
end
