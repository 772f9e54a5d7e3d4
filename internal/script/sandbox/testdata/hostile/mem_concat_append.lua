-- expect: limit
-- Appending to a string in a loop (quadratic).
function hostile(call)
  local s = ""
  for i = 1, 1e9 do s = s .. "0123456789abcdef" end
end
