-- SIGTERM in the middle of a message: the message is finished (accepted
-- and tagged) before the daemon exits, and so is one that starts while it
-- is being finished; a second SIGTERM and a SIGHUP change nothing.
dofile(LIB)

pd_run("SIGTERM lets the message in progress finish", function()
	local hdrs, body = pd_split(pd_read(MSG1))
	local conn = pd_connect()
	pd_begin(conn, hdrs, "QIDDRAIN")
	pd_check(mt.bodystring(conn, body:sub(1, 200)) == nil, "body")
	pd_check(os.execute("kill -TERM " .. PID), "kill")
	mt.sleep(1)
	local late = pd_connect()
	pd_check(pd_message(late, hdrs, body, "QIDLATE") == SMFIR_ACCEPT,
	    "a message started after SIGTERM was not accepted")
	pd_check(mt.eom_check(late, MT_HDRINSERT, "X-Patch-Kind", "patch"),
	    "a message started after SIGTERM was not tagged")
	mt.disconnect(late)
	-- more signals while draining: taken by the daemon, not by libmilter
	-- (which would drop the message in progress at once)
	pd_check(os.execute("kill -TERM " .. PID), "kill 2")
	mt.sleep(0.2)
	pd_check(os.execute("kill -HUP " .. PID), "kill 3")
	mt.sleep(0.5)
	pd_check(mt.bodystring(conn, body:sub(201)) == nil, "rest of body")
	pd_check(mt.eom(conn) == nil, "eom")
	pd_check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
	pd_check(mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind", "patch"), "not tagged")
	mt.disconnect(conn)
end)
