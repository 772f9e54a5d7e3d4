-- expect: ok
-- Globals set in one event are gone in the next.
function hostile(call)
  leaked = true
  _G.leaked_g = true
  rawset(_G, "leaked_raw", true)
  print = function() end
  string = {}
end
function check()
  assert(leaked == nil and leaked_g == nil and leaked_raw == nil, "a global survived")
  assert(type(string.rep) == "function" and print ~= nil)
end
