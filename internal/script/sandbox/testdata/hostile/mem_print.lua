-- expect: ok
-- print and log of huge strings are cut.
function hostile(call)
  local s = string.rep("x", 1e7)
  print(s, s, s)
  log.info(s, {big = s, [s] = 1})
end
