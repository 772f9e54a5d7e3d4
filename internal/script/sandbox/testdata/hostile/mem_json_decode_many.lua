-- expect: memory
-- json.decode of many small values, kept.
function hostile(call)
  local s = "[" .. string.rep("1,", 1e6) .. "1]"
  local t = {}
  for i = 1, 100 do t[i] = json.decode(s) end
end
