-- A store that reaches MapSizeMax: with OnError tempfail a message is
-- tempfailed (EXPECT=full, within 400 distinct messages); once MapSizeMax
-- is raised and the configuration reloaded, the next is stored and tagged
-- (EXPECT=room): the reopened store takes the new size.
dofile(LIB)

local function send(i)
	local hdrs, body = pd_split(pd_read(PATCH))
	for _, h in ipairs(hdrs) do
		if h.name:lower() == "message-id" then
			h.value = " <full-" .. EXPECT .. "-" .. i .. "@example.org>"
		end
	end
	local conn = pd_connect()
	local reply = pd_message(conn, hdrs, body, "QIDFULL" .. i)
	local tagged = mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind", " patch")
	mt.disconnect(conn)
	return reply, tagged
end

pd_run("store full: " .. EXPECT, function()
	if EXPECT == "full" then
		for i = 1, 400 do
			local reply = send(i)
			if reply == SMFIR_TEMPFAIL then
				return
			end
			pd_check(reply == SMFIR_ACCEPT, "neither accepted nor tempfailed")
		end
		pd_check(false, "400 messages stored in a 128K store")
	else
		local reply, tagged = send(1)
		pd_check(reply == SMFIR_ACCEPT, "not accepted after MapSizeMax was raised")
		pd_check(tagged, "not tagged after MapSizeMax was raised")
	end
end)
