-- expect: timeout
-- An empty while loop.
function hostile(call)
  while true do end
end
