-- expect: error: format longer than
-- os.date with a huge format.
function hostile(call)
  return os.date(string.rep("%c", 1e6))
end
