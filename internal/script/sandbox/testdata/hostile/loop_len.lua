-- expect: timeout
-- # of a table with a long tail of nils, in a loop.
function hostile(call)
  local t = {}
  for i = 1, 200000 do t[i] = i end
  for i = 200000, 2, -1 do t[i] = nil end
  local n = 0
  while true do n = n + #t end
end
