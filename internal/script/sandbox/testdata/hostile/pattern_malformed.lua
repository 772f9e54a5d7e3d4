-- expect: error: malformed pattern
-- A malformed pattern.
function hostile(call)
  return string.find("abc", "[a")
end
