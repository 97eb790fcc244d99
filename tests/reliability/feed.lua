-- Feed a list of messages to the milter on one connection (reconnecting
-- after a lost connection) and report how many were accepted and tagged.
-- Globals (miltertest -D): LIB (tests/milter/lib.lua), SOCK, FILES (a file
-- with one message path a line), QID (a queue id prefix), optional
-- TOLERATE=1: a lost connection ends the run quietly (the milter is being
-- killed on purpose); optional TIMEOUT: seconds to wait for a reply (10).
dofile(LIB)
mt.set_timeout(tonumber(TIMEOUT) or 10)

-- miltertest 2.11 overflows a stack buffer on a header value of about
-- 1 KB or more (a long Cc: list): shorten those, the same way every run.
local function shorten(hdrs)
	for _, h in ipairs(hdrs) do
		if #h.value > 900 then
			h.value = h.value:sub(1, 900):gsub("\n[^\n]*$", "")
		end
	end
	return hdrs
end

local accepted, tagged, n = 0, 0, 0
local conn = nil
for path in io.lines(FILES) do
	n = n + 1
	local hdrs, body = pd_split(pd_read(path))
	hdrs = shorten(hdrs)
	local ok, err = pcall(function()
		if conn == nil then
			conn = pd_connect()
		end
		local r = pd_message(conn, hdrs, body, QID .. n)
		pd_check(r == SMFIR_ACCEPT, "message " .. n .. " not accepted: " .. tostring(r))
		accepted = accepted + 1
		if mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind") then
			tagged = tagged + 1
		end
	end)
	if not ok then
		if TOLERATE == "1" then
			mt.echo("stopped at " .. n .. ": " .. tostring(err))
			break
		end
		mt.echo("FAIL " .. path .. ": " .. tostring(err))
		error(err)
	end
end
if conn ~= nil then
	pcall(mt.disconnect, conn)
end
mt.echo("accepted " .. accepted .. " tagged " .. tagged .. " of " .. n)
