-- expect: ok
-- json.null and array marks cannot be changed.
function hostile(call)
  pcall(function() json.null.x = 1 end)
  pcall(rawset, json.null, "x", 1)
  pcall(setmetatable, call.files, {})
  pcall(function() getmetatable(json.array()).__index = {x = 1} end)
end
function check()
  assert(json.null.x == nil and json.array().x == nil)
  assert(json.encode({json.null}) == "[null]")
end
