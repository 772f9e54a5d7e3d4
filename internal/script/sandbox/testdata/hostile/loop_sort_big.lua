-- expect: timeout
-- Sorting a big table again and again.
function hostile(call)
  local t = {}
  for i = 1, 200000 do t[i] = (i * 7919) % 200000 end
  while true do
    table.sort(t, function(a, b) return a > b end)
    table.sort(t)
  end
end
