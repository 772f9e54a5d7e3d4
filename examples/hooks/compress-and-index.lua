-- compress-and-index.lua: gzip every pcap lc closes, and append one line
-- per call to an index file (tab-separated: call date, state, status,
-- duration, caller, called, Call-ID, directory).
--
-- Needs: gzip in PATH; write access to INDEX's directory.
-- Use:   lc process -i ... --hook-script compress-and-index.lua

local INDEX = "/var/log/lc/calls.tsv"

function on_pcap_close(path, file)
  local r = exec({"gzip", "-9", "-f", path})
  if r.code ~= 0 then
    log.error("gzip failed", {file = path, stderr = r.stderr})
  end
end

function on_call_complete(call)
  local line = table.concat({
    call.calldate, call.state, tostring(call.status), string.format("%d", math.floor(call.duration)),
    call.caller, call.called, call.callid, call.dirname,
  }, "\t")
  -- The line travels as a positional parameter: printf never sees it as code.
  local r = exec("printf '%%s\\n' %line% >> %index%", {line = line, index = INDEX})
  if r.code ~= 0 then
    log.error("index append failed", {index = INDEX, stderr = r.stderr})
  end
end
