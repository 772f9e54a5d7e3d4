-- expect: error: invalid format
-- A width Lua 5.1 refuses.
function hostile(call)
  return string.format("%999999999d", 1)
end
