-- post-failed.lua: POST a JSON summary of every failed call (final
-- response >= 300 to the INVITE) to a web service with curl.
--
-- Needs: curl in PATH; a service at URL that accepts application/json.
-- Use:   lc process ... --hook-script post-failed.lua

local URL = "http://127.0.0.1:8080/lc/failed-calls"

function on_call_complete(call)
  if call.state ~= "failed" then
    return
  end
  local body = json.encode({
    callid = call.callid,
    caller = call.caller,
    called = call.called,
    calldate = call.calldate,
    status = call.status,
    duration = call.duration,
    sip_pcap = call.sip_files[1],
  })
  local r = exec({"curl", "-sS", "--max-time", "10", "--fail",
    "-H", "Content-Type: application/json", "--data-binary", body, URL})
  if r.code ~= 0 then
    log.warn("could not report failed call", {callid = call.callid, code = r.code, stderr = r.stderr})
  end
end
