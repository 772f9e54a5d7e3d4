-- expect: timeout
-- Encoding and decoding in a loop.
function hostile(call)
  local t = {}
  for i = 1, 1000 do t[i] = {a = i, b = "x"} end
  while true do json.decode(json.encode(t)) end
end
