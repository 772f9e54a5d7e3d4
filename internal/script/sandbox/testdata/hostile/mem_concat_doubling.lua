-- expect: memory
-- Doubling a string with .. .
function hostile(call)
  local s = "x"
  while true do s = s .. s end
end
