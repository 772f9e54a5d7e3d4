-- expect: memory
-- error() copies its message; keeping the copies.
function hostile(call)
  local s = string.rep("x", 1e6)
  local t = {}
  for i = 1, 1e9 do
    local ok, e = pcall(error, s)
    t[i] = e
  end
end
