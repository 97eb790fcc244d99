-- The store cannot be opened: the milter's own fault.  OnError accept
-- passes the message on unchanged, OnError tempfail tempfails it.
dofile(LIB)

pd_run("store unavailable: " .. EXPECT, function()
	local hdrs, body = pd_split(pd_read(PATCH))
	table.insert(hdrs, 2, { name = "X-Patch-Kind", value = "forged" })
	local conn = pd_connect()
	local want = EXPECT == "tempfail" and SMFIR_TEMPFAIL or SMFIR_ACCEPT
	pd_check(pd_message(conn, hdrs, body, "QIDONERR") == want,
	    "reply is not " .. EXPECT)
	pd_check(not mt.eom_check(conn, MT_HDRINSERT), "header inserted")
	pd_check(not mt.eom_check(conn, MT_HDRCHANGE), "header changed")
	mt.disconnect(conn)
end)
