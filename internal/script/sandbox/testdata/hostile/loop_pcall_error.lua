-- expect: timeout
-- Catching errors forever.
function hostile(call)
  while true do
    local ok, err = pcall(error, "again")
  end
end
