-- classic-voip-command.lua: the behaviour of
--   --voip-command '/usr/local/bin/voip-hook %callid% %dirname% %caller% %called% %calldate%'
-- written as a script, as a starting point for adding conditions.
--
-- Needs: the program PROGRAM.
-- Use:   lc process ... --hook-script classic-voip-command.lua

local PROGRAM = "/usr/local/bin/voip-hook"

function on_call_complete(call)
  -- A template is filled from the current call, one argument per
  -- placeholder, without a shell.
  exec(PROGRAM .. " %callid% %dirname% %caller% %called% %calldate%")
end
