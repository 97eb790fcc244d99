-- A patch carrying forged X-Patch-* fields: they are removed, ours inserted.
dofile(LIB)

pd_run("forged tags removed, real tags inserted", function()
	local hdrs, body = pd_split(pd_read(PATCH))
	local subject = pd_header_of(hdrs, "Subject")
	pd_check(subject and subject:match("%[PATCH"), "PATCH is not a patch")
	-- forged: one X-Patch-Subsystem, two X-Patch-Kind (any case)
	table.insert(hdrs, 2, { name = "X-Patch-Subsystem", value = "forged: by sender" })
	table.insert(hdrs, 3, { name = "X-Patch-Kind", value = "pull" })
	table.insert(hdrs, { name = "x-patch-kind", value = "cover" })

	local conn = pd_connect()
	pd_check(pd_message(conn, hdrs, body, "QIDTAG1") == SMFIR_ACCEPT, "not accepted")

	pd_check(mt.eom_check(conn, MT_HDRDELETE, "X-Patch-Subsystem", 1),
	    "forged X-Patch-Subsystem not removed")
	pd_check(mt.eom_check(conn, MT_HDRCHANGE, "X-Patch-Subsystem"),
	    "no change of X-Patch-Subsystem")
	pd_check(mt.eom_check(conn, MT_HDRDELETE, "X-Patch-Kind", 1),
	    "forged X-Patch-Kind #1 not removed")
	pd_check(mt.eom_check(conn, MT_HDRDELETE, "x-patch-kind", 2),
	    "forged X-Patch-Kind #2 not removed")

	pd_check(mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind", " patch"),
	    "X-Patch-Kind: patch not inserted")
	pd_check(mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Project"),
	    "X-Patch-Project not inserted")
	local series = mt.getheader(conn, "X-Patch-Series", 0)
	pd_check(series ~= nil, "X-Patch-Series not inserted")
	local x, n = subject:match("(%d+)/(%d+)%]")
	pd_check(series:find(" " .. tonumber(x) .. "/" .. tonumber(n), 1, true),
	    "X-Patch-Series " .. series .. " lacks the counter of " .. subject)
	local sub = mt.getheader(conn, "X-Patch-Subsystem", 0)
	pd_check(sub ~= nil and not sub:match("forged"), "subsystem not ours")
	pd_check(not mt.eom_check(conn, MT_HDRADD), "appended instead of inserted")
	pd_check(not mt.eom_check(conn, MT_BODYCHANGE), "body changed")
	mt.disconnect(conn)
end)

-- Any number of distinct X-Patch-* names: each occurrence removed.
pd_run("2,000 distinct forged X-Patch-* names removed", function()
	local hdrs, body = pd_split(pd_read(PATCH))
	for i = 1, 2000 do
		table.insert(hdrs, 2, { name = "X-Patch-N" .. i, value = "x" })
	end
	table.insert(hdrs, { name = "x-patch-n7", value = "again" })
	local conn = pd_connect()
	pd_check(pd_message(conn, hdrs, body, "QIDTAGN") == SMFIR_ACCEPT, "not accepted")
	for _, i in ipairs({ 1, 7, 1000, 2000 }) do
		pd_check(mt.eom_check(conn, MT_HDRDELETE, "X-Patch-N" .. i, 1),
		    "X-Patch-N" .. i .. " not removed")
	end
	pd_check(mt.eom_check(conn, MT_HDRDELETE, "x-patch-n7", 2),
	    "the second x-patch-n7 not removed")
	pd_check(mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind", " patch"),
	    "X-Patch-Kind: patch not inserted")
	mt.disconnect(conn)
end)

-- A Message-ID too long for X-Patch-Series' first line starts the value on
-- the next one: with SMFIP_HDR_LEADSPC, no blank ends the first line.
pd_run("a long Message-ID starts on a continuation line", function()
	local hdrs, body = pd_split(pd_read(GITID))
	local id = pd_header_of(hdrs, "Message-ID")
	local conn = pd_connect()
	pd_check(pd_message(conn, hdrs, body, "QIDGITID") == SMFIR_ACCEPT,
	    "not accepted")
	local series = mt.getheader(conn, "X-Patch-Series", 0)
	pd_check(series == "\n " .. id .. " v1 1/8",
	    "X-Patch-Series: [" .. tostring(series) .. "]")
	mt.disconnect(conn)
end)
