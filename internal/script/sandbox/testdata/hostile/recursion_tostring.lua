-- expect: error: stack overflow
-- A __tostring that calls tostring on itself.
function hostile(call)
  local t = {}
  setmetatable(t, {__tostring = function(self) return tostring(self) end})
  return tostring(t)
end
