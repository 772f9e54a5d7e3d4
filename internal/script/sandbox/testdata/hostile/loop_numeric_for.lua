-- expect: timeout
-- A numeric for to infinity.
function hostile(call)
  local n = 0
  for i = 1, math.huge do n = n + i end
end
