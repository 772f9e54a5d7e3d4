-- expect: memory
-- gsub repeating the whole match many times.
function hostile(call)
  return string.gsub(string.rep("a", 1e5), "a+", string.rep("%0", 1000))
end
