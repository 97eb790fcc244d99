-- SIGTERM in the middle of a message: the message is finished (accepted
-- and tagged) before the daemon exits.  One that starts after the signal
-- is passed on as for a fault (OnError accept: untagged), and one begun
-- after it and never ended (steady load) does not hold the stop up.  A
-- second SIGTERM and a SIGHUP change nothing.
dofile(LIB)

local function run(cmd)
	local r = os.execute(cmd)
	return r == true or r == 0
end

pd_run("SIGTERM lets the message in progress finish", function()
	local hdrs, body = pd_split(pd_read(MSG1))
	-- Offered no "no reply to MAIL", the milter answers MAIL: the
	-- message is under way in the milter, not only sent, when the
	-- signal comes (else the drain may find nothing to wait for).
	local conn = mt.connect(SOCK, 20, 0.25)
	pd_check(conn ~= nil, "cannot connect to " .. tostring(SOCK))
	pd_check(mt.negotiate(conn, 6, 0x1FF, 0x001FFFFF - SMFIP_NR_MAIL) == nil,
	    "negotiate")
	pd_check(not mt.test_option(conn, SMFIP_NR_MAIL), "NR_MAIL taken")
	pd_check(mt.conninfo(conn, "client.example.org", "192.0.2.10") == nil,
	    "conninfo")
	pd_check(mt.getreply(conn) == SMFIR_CONTINUE, "conninfo reply")
	pd_begin(conn, hdrs, "QIDDRAIN")
	pd_check(mt.bodystring(conn, body:sub(1, 200)) == nil, "body")
	pd_check(run("kill -TERM " .. PID), "kill")
	mt.sleep(1)
	local late = pd_connect()
	pd_check(pd_message(late, hdrs, body, "QIDLATE") == SMFIR_ACCEPT,
	    "a message started after SIGTERM was not accepted")
	pd_check(not mt.eom_check(late, MT_HDRINSERT, "X-Patch-Kind"),
	    "a message started after SIGTERM was tagged")
	mt.disconnect(late)
	local hold = pd_connect()
	pd_begin(hold, hdrs, "QIDHOLD")
	-- more signals while draining: taken by the daemon, not by libmilter
	-- (which would drop the message in progress at once)
	pd_check(run("kill -TERM " .. PID), "kill 2")
	mt.sleep(0.2)
	pd_check(run("kill -HUP " .. PID), "kill 3")
	mt.sleep(0.5)
	pd_check(mt.bodystring(conn, body:sub(201)) == nil, "rest of body")
	pd_check(mt.eom(conn) == nil, "eom")
	pd_check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
	-- the blank after the colon is the milter's if it took SMFIP_HDR_LEADSPC
	-- (pd_connect's connections do), else the MTA's
	local blank = mt.test_option(conn, SMFIP_HDR_LEADSPC) and " " or ""
	pd_check(mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind", blank .. "patch"),
	    "not tagged")
	mt.disconnect(conn)
	local gone = false
	for _ = 1, 150 do
		if not run("kill -0 " .. PID .. " 2>/dev/null") then
			gone = true
			break
		end
		mt.sleep(0.1)
	end
	pd_check(gone, "a message begun after SIGTERM held the stop up")
end)
