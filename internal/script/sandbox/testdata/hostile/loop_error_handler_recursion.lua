-- expect: timeout
-- An error handler that raises, in a loop.
function hostile(call)
  while true do
    xpcall(function() error("a") end, function(e) error("b") end)
  end
end
