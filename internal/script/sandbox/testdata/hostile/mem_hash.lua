-- expect: memory
-- A hash part that grows.
function hostile(call)
  local t = {}
  local i = 0
  while true do i = i + 1; t["k" .. i] = i end
end
