-- expect: memory
-- string.rep as a method, with a huge count.
function hostile(call)
  return ("xy"):rep(2^52)
end
