-- expect: timeout
-- A catastrophic pattern in gsub.
function hostile(call)
  return string.gsub(string.rep("a", 20000), ".-.-.-b", "x")
end
