-- expect: memory
-- Keeping many numbers as strings (padded, to get there sooner).
local pad = string.rep(" ", 200)
function hostile(call)
  local t = {}
  for i = 1, 1e9 do t[i] = tostring(i) .. pad end
end
