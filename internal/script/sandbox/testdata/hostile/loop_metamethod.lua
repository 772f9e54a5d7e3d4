-- expect: timeout
-- A loop in an __index metamethod.
function hostile(call)
  local t = setmetatable({}, {__index = function(t, k) while true do end end})
  return t.x
end
