-- expect: timeout
-- A loop in a gsub replacement function.
function hostile(call)
  string.gsub(string.rep("a", 100), "a", function() while true do end end)
end
