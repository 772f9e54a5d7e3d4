-- expect: error: stack overflow
-- An __index metamethod that recurses.
function hostile(call)
  local t = setmetatable({}, {})
  getmetatable(t).__index = function(t, k) return t[k] end
  return t.x
end
