-- expect: error: too many recursions in gettable
-- A loop of __index tables.
function hostile(call)
  local a, b = {}, {}
  setmetatable(a, {__index = b})
  setmetatable(b, {__index = a})
  return a.x
end
