-- expect: error: json.decode: input of
-- json.decode of an input too big.
function hostile(call)
  return json.decode('"' .. string.rep("x", 5e6) .. '"')
end
