-- expect: timeout
-- A goto loop.
function hostile(call)
  ::top::
  goto top
end
