-- A store that reaches MapSizeMax: with OnError tempfail a message is
-- tempfailed (EXPECT=full, within 400 distinct messages).  Then
-- (EXPECT=room, MapSizeMax raised in the file): a connection made before
-- the reload, the reload (SIGHUP; LOG is the daemon's log), and one made
-- after it: its message is stored and tagged, the store reopened with the
-- new size; the older connection's next message too, with no reopen back
-- to the old size.
dofile(LIB)

local function send(conn, tag)
	local hdrs, body = pd_split(pd_read(PATCH))
	for _, h in ipairs(hdrs) do
		if h.name:lower() == "message-id" then
			h.value = " <full-" .. tag .. "@example.org>"
		end
	end
	local reply = pd_message(conn, hdrs, body, "QIDFULL" .. tag)
	return reply, mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind", " patch")
end

local function count(what)
	local n = 0
	for _ in pd_read(LOG):gmatch(what) do
		n = n + 1
	end
	return n
end

pd_run("store full: " .. EXPECT, function()
	if EXPECT == "full" then
		for i = 1, 400 do
			local conn = pd_connect()
			local reply = send(conn, "full-" .. i)
			mt.disconnect(conn)
			if reply == SMFIR_TEMPFAIL then
				return
			end
			pd_check(reply == SMFIR_ACCEPT, "neither accepted nor tempfailed")
		end
		pd_check(false, "400 messages stored in a 128K store")
	end
	local old = pd_connect()
	local reloads = count("configuration reloaded")
	os.execute("kill -HUP " .. PID)
	for _ = 1, 100 do
		if count("configuration reloaded") > reloads then
			break
		end
		mt.sleep(0.1)
	end
	pd_check(count("configuration reloaded") > reloads, "no reload on SIGHUP")
	local reopened = count("database is now")
	local conn = pd_connect()
	local reply, tagged = send(conn, "new")
	mt.disconnect(conn)
	pd_check(reply == SMFIR_ACCEPT, "not accepted after MapSizeMax was raised")
	pd_check(tagged, "not tagged after MapSizeMax was raised")
	pd_check(count("database is now") == reopened + 1, "the store was not reopened")
	reply, tagged = send(old, "old")
	mt.disconnect(old)
	pd_check(reply == SMFIR_ACCEPT and tagged, "the older connection's message")
	pd_check(count("database is now") == reopened + 1,
	    "the older connection reopened the store with its sizes")
end)
