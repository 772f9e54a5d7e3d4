-- expect: timeout
-- An xpcall whose error handler loops.
function hostile(call)
  xpcall(function() error("x") end, function(e) while true do end end)
  while true do end
end
