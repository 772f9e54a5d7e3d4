-- expect: memory
-- json.encode of control characters (6 bytes each).
function hostile(call)
  return json.encode(string.rep("\1", 4e6))
end
