-- expect: memory
-- rawset far past the end of an array.
function hostile(call)
  rawset({}, 60000000, 1)
end
