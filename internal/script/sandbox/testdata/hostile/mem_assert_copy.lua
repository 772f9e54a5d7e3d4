-- expect: memory
-- assert() copies its message too.
function hostile(call)
  local s = string.rep("x", 1e6)
  local t = {}
  for i = 1, 1e9 do
    local ok, e = pcall(assert, false, s)
    t[i] = e
  end
end
