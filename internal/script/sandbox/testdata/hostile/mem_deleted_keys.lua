-- expect: limit
-- Keys set then deleted: gopher-lua keeps them.
function hostile(call)
  local t = {}
  local i = 0
  while true do i = i + 1; local k = "key" .. i; t[k] = true; t[k] = nil end
end
