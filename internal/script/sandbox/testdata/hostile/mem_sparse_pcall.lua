-- expect: memory
-- Catching the memory error and trying again.
function hostile(call)
  while true do
    pcall(function() local t = {}; t[60000000] = 1 end)
    pcall(string.rep, "x", 1e9)
  end
end
