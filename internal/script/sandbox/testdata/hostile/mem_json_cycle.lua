-- expect: error: json.encode: cycle
-- json.encode of a table that contains itself.
function hostile(call)
  local t = {}
  t.self = t
  return json.encode(t)
end
