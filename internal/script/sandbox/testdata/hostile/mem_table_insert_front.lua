-- expect: limit
-- table.insert at the front in a loop.
function hostile(call)
  local t = {}
  while true do table.insert(t, 1, "x") end
end
