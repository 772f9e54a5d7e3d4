-- expect: error: stack overflow
-- A sort comparator that sorts.
local t = {3, 2, 1}
local function cmp(a, b) table.sort(t, cmp); return a < b end
function hostile(call)
  table.sort(t, cmp)
end
