-- expect: memory
-- table.insert in a loop.
function hostile(call)
  local t = {}
  local i = 0
  while true do i = i + 1; table.insert(t, i) end
end
