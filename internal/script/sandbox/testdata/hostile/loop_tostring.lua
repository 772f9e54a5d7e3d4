-- expect: timeout
-- A loop in __tostring, called by tostring, print and string.format.
function hostile(call)
  local t = setmetatable({}, {__tostring = function() while true do end end})
  pcall(tostring, t)
  pcall(print, t)
  pcall(string.format, "%s", t)
  while true do end
end
