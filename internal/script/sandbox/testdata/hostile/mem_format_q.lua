-- expect: memory
-- string.format %q of a string of NULs (4 bytes each).
function hostile(call)
  local s = string.rep("\0", 5e6)
  return string.format("%q", s)
end
