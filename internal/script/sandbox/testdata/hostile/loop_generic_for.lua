-- expect: timeout
-- A generic for over an iterator that never ends.
function hostile(call)
  for _ in function() return 1 end do end
end
