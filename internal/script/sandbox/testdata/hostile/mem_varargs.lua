-- expect: error: registry overflow
-- A recursion that keeps thousands of arguments in every frame.
local t = {}
for i = 1, 7000 do t[i] = i end
local function grow(...) return 1 + grow(unpack(t)) end
function hostile(call)
  return grow()
end
