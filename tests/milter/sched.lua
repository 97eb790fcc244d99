-- Three patch messages of one series, one connection each.
dofile(LIB)

pd_run("three patches", function()
	for i, f in ipairs({ MSG1, MSG2, MSG3 }) do
		local hdrs, body = pd_split(pd_read(f))
		local conn = pd_connect()
		pd_check(pd_message(conn, hdrs, body, "QIDSCHED" .. i) == SMFIR_ACCEPT,
		    "message " .. i .. " not accepted")
		pd_check(mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind", " patch"),
		    "message " .. i .. " not tagged as a patch")
		mt.disconnect(conn)
	end
end)
