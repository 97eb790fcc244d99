-- After a reload that put the test client into InternalHosts: the message
-- is tagged as usual (60-miltertest.sh checks it is not counted).
dofile(LIB)

pd_run("internal host: tagged", function()
	local hdrs, body = pd_split(pd_read(MSG4))
	local conn = pd_connect()
	pd_check(pd_message(conn, hdrs, body, "QIDINTERNAL") == SMFIR_ACCEPT, "not accepted")
	pd_check(mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind", " patch"), "not tagged")
	mt.disconnect(conn)
end)
