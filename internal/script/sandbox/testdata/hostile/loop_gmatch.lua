-- expect: timeout
-- Iterating over empty matches forever.
function hostile(call)
  local s = string.rep("a", 100000)
  while true do
    for w in string.gmatch(s, "b*") do end
  end
end
