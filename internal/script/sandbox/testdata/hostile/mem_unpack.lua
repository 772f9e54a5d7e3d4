-- expect: error: too many results to unpack
-- unpack of a huge range.
function hostile(call)
  return unpack({}, 1, 1e8)
end
