-- expect: timeout
-- A loop inside pcall, inside a loop that ignores the error.
function hostile(call)
  while true do
    pcall(function() while true do end end)
  end
end
