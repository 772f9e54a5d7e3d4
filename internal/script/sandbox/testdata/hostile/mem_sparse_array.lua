-- expect: memory
-- A store far past the end of an array.
function hostile(call)
  local t = {1}
  t[60000000] = 1
end
