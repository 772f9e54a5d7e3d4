-- archive-answered.lua: copy the directory of every answered call that
-- lasted at least MIN_SECONDS into ARCHIVE/YYYY/MM/DD/, and leave the others.
--
-- Needs: mkdir and cp in PATH; write access to ARCHIVE.
-- Use:   lc process ... --hook-script archive-answered.lua

local ARCHIVE = "/srv/call-archive"
local MIN_SECONDS = 10

function on_call_complete(call)
  if call.state ~= "completed" or call.status < 200 or call.status > 299 then
    return
  end
  if call.duration < MIN_SECONDS then
    log.debug("call too short to archive", {callid = call.callid, duration = call.duration})
    return
  end
  -- calldate is "YYYY-MM-DDTHH:MM:SSZ": the dated tree comes from it.
  local y, m, d = call.calldate:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)")
  local dest = ARCHIVE .. "/" .. y .. "/" .. m .. "/" .. d
  local r = exec({"mkdir", "-p", dest})
  if r.code == 0 then
    r = exec({"cp", "-R", call.dirname, dest .. "/"})
  end
  if r.code ~= 0 then
    log.error("archive failed", {callid = call.callid, dest = dest, stderr = r.stderr})
  else
    log.info("archived", {callid = call.callid, dest = dest})
  end
end
