-- expect: error: error object is a table
-- An error handler that raises a table.
function hostile(call)
  local ok, e = xpcall(function() error("x") end, function() error({}) end)
  error(e)
end
