-- expect: error: error object is a table
-- An error that is a table.
function hostile(call)
  error({code = 42})
end
