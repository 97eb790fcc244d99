-- A reply and a malformed message are accepted, their bodies untouched; a
-- malformed one never makes the filter reject, tempfail or die, nor does
-- one nested 20,000 MIME levels deep.
dofile(LIB)

pd_run("reply accepted and tagged as a reply", function()
	local hdrs, body = pd_split(pd_read(REPLY))
	local conn = pd_connect()
	pd_check(pd_message(conn, hdrs, body, "QIDREPLY") == SMFIR_ACCEPT, "not accepted")
	pd_check(mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind", "reply"),
	    "X-Patch-Kind: reply not inserted")
	pd_check(not mt.eom_check(conn, MT_HDRCHANGE), "a header was changed")
	pd_check(not mt.eom_check(conn, MT_BODYCHANGE), "body changed")
	mt.disconnect(conn)
end)

pd_run("malformed message accepted", function()
	local hdrs, body = pd_split(pd_read(MALFORMED))
	local conn = pd_connect()
	pd_check(pd_message(conn, hdrs, body, "QIDBAD") == SMFIR_ACCEPT, "not accepted")
	pd_check(not mt.eom_check(conn, MT_BODYCHANGE), "body changed")
	pd_check(not mt.eom_check(conn, MT_HDRCHANGE), "a header was changed")
	mt.disconnect(conn)
end)

pd_run("a patch 20,000 MIME levels deep is tagged", function()
	local hdrs, body = pd_split(pd_read(DEEP))
	local conn = pd_connect()
	pd_check(pd_message(conn, hdrs, body, "QIDDEEP") == SMFIR_ACCEPT, "not accepted")
	pd_check(mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind", "patch"),
	    "X-Patch-Kind: patch not inserted")
	pd_check(not mt.eom_check(conn, MT_BODYCHANGE), "body changed")
	mt.disconnect(conn)
end)

-- miltertest sends "From: <sender@example.com>" and "Dummy message body."
-- when a message is ended with neither header nor body given: a header
-- block the milter never sees cannot be sent from here (60 uses -t).
pd_run("miltertest's default message (no header or body given)", function()
	local conn = pd_connect()
	pd_begin(conn, {}, "QIDEMPTY")
	pd_check(mt.eom(conn) == nil, "eom")
	pd_check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
	mt.disconnect(conn)
end)
