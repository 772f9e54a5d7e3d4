-- expect: error: json.decode: nesting deeper than 64
-- json.decode of deep arrays.
function hostile(call)
  return json.decode(string.rep("[", 10000) .. string.rep("]", 10000))
end
