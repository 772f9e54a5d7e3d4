-- expect: ok
-- Upvalues of the hook functions start afresh.
local n = 0
local cache = {}
function hostile(call)
  n = n + 1
  cache[#cache + 1] = call.callid
end
function check()
  assert(n == 0 and #cache == 0, "an upvalue survived: n = " .. n)
end
