-- one-way-audio.lua: warn about answered calls where media flowed in one
-- direction only (an endpoint the SDP announced received no packet), a
-- classic symptom of NAT or firewall trouble, and mark the call directory
-- with a file named ONE-WAY-AUDIO for later inspection.
--
-- Needs: touch in PATH.
-- Use:   lc process ... --hook-script one-way-audio.lua

local MIN_SECONDS = 5

function on_call_complete(call)
  if call.state ~= "completed" or call.duration < MIN_SECONDS or #call.streams < 2 then
    return
  end
  local silent = {}
  for _, s in ipairs(call.streams) do
    if s.packets == 0 then
      silent[#silent + 1] = s.media .. " to " .. s.addr
    end
  end
  if #silent > 0 then
    log.warn("one-way audio", {callid = call.callid, caller = call.caller, called = call.called,
      silent = table.concat(silent, ", ")})
    exec({"touch", call.dirname .. "/ONE-WAY-AUDIO"})
  end
end
