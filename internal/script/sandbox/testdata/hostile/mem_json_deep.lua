-- expect: error: json.encode: nesting deeper than 64
-- json.encode of a deep table.
function hostile(call)
  local t = {}
  for i = 1, 1000 do t = {t} end
  return json.encode(t)
end
