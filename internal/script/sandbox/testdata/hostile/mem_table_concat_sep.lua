-- expect: memory
-- table.concat with a huge separator.
function hostile(call)
  local t = {}
  for i = 1, 1000 do t[i] = i end
  return table.concat(t, string.rep("-", 1e5))
end
