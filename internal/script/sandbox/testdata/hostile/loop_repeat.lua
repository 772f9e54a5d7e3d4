-- expect: timeout
-- An empty repeat loop.
function hostile(call)
  repeat until false
end
