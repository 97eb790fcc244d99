-- A reply and a malformed message are accepted, their bodies untouched; a
-- malformed one never makes the filter reject, tempfail or die, nor does
-- one nested 20,000 MIME levels deep or one with a 600-byte Message-ID.
dofile(LIB)

-- Send file as one message: accepted, no header changed, body untouched,
-- and, when kind is given, tagged with that X-Patch-Kind.
local function accepted(file, qid, kind)
	local hdrs, body = pd_split(pd_read(file))
	local conn = pd_connect()
	pd_check(pd_message(conn, hdrs, body, qid) == SMFIR_ACCEPT, "not accepted")
	if kind then
		pd_check(mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind", " " .. kind),
		    "X-Patch-Kind: " .. kind .. " not inserted")
	end
	pd_check(not mt.eom_check(conn, MT_HDRCHANGE), "a header was changed")
	pd_check(not mt.eom_check(conn, MT_BODYCHANGE), "body changed")
	mt.disconnect(conn)
end

pd_run("reply accepted and tagged as a reply", function()
	accepted(REPLY, "QIDREPLY", "reply")
end)

pd_run("malformed message accepted", function()
	accepted(MALFORMED, "QIDBAD")
end)

pd_run("a patch 20,000 MIME levels deep is tagged", function()
	accepted(DEEP, "QIDDEEP", "patch")
end)

pd_run("a patch with a 600-byte Message-ID is tagged", function()
	accepted(LONGID, "QIDLONG", "patch")
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
