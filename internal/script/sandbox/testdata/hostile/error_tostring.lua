-- expect: error: error object is a table
-- An error whose __tostring loops.
function hostile(call)
  error(setmetatable({}, {__tostring = function() while true do end end}))
end
