-- expect: ok
-- exec is bounded by the runner's output limit.
function hostile(call)
  local r = exec({"true"})
  assert(r.dry_run)
end
