-- expect: memory
-- Keeping many closures.
function hostile(call)
  local t = {}
  for i = 1, 1e9 do t[i] = function() return i end end
end
