-- expect: memory
-- json.encode of a wide table of big strings.
function hostile(call)
  local s = string.rep("x", 1e5)
  local t = {}
  for i = 1, 1000 do t[i] = s end
  return json.encode(t)
end
