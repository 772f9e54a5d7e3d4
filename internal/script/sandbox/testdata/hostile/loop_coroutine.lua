-- expect: error: attempt to index a non-table object(nil)
-- Coroutines are not in the sandbox.
function hostile(call)
  local co = coroutine.create(function() while true do coroutine.yield() end end)
end
