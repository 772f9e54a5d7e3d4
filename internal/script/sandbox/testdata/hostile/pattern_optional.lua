-- expect: timeout
-- Exponential backtracking over optional items.
function hostile(call)
  local s = string.rep("a", 25)
  while true do
    string.match(s, string.rep("a?", 25) .. string.rep("a", 25) .. "b")
  end
end
