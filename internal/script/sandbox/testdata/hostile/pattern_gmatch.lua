-- expect: timeout
-- A catastrophic pattern in gmatch.
function hostile(call)
  for w in string.gmatch(string.rep("a", 20000), ".-.-.-b") do end
end
