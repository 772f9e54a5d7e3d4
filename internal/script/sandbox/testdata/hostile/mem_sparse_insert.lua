-- expect: memory
-- table.insert far past the end of an array.
function hostile(call)
  table.insert({}, 60000000, 1)
end
