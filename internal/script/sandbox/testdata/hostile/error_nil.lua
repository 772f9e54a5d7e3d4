-- expect: error: error object is nil
-- An error that is nil.
function hostile(call)
  error(nil)
end
