-- expect: timeout
-- A loop in xpcall with a handler that loops too, retried forever.
function hostile(call)
  while true do
    xpcall(function() while true do end end, function(e) while true do end end)
  end
end
