-- expect: memory
-- gsub with a function returning big strings.
function hostile(call)
  local big = string.rep("b", 1e5)
  return string.gsub(string.rep("a", 1e4), "a", function() return big end)
end
