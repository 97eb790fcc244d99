-- Several messages on one connection, an aborted transaction between them,
-- and a connection closed in the middle of a message.
dofile(LIB)

pd_run("several messages and an abort on one connection", function()
	local conn = pd_connect()
	local files = { MSG1, MSG2, MSG3 }
	for i, f in ipairs(files) do
		local hdrs, body = pd_split(pd_read(f))
		if i == 2 then
			-- a transaction the MTA gives up on half-way through the body
			pd_begin(conn, hdrs, "QIDABORT")
			pd_check(mt.bodystring(conn, body:sub(1, 100)) == nil, "body")
			pd_check(mt.abort(conn) == nil, "abort")
		end
		pd_check(pd_message(conn, hdrs, body, "QIDSESS" .. i) == SMFIR_ACCEPT,
		    "message " .. i .. " not accepted")
		pd_check(mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind"),
		    "message " .. i .. " not tagged")
	end
	mt.disconnect(conn)
end)

pd_run("connection dropped in the middle of a message", function()
	local conn = pd_connect()
	local hdrs, body = pd_split(pd_read(MSG1))
	pd_begin(conn, hdrs, "QIDDROP")
	mt.disconnect(conn, false)
	-- the filter still serves the next connection
	conn = pd_connect()
	pd_check(pd_message(conn, hdrs, body, "QIDAFTER") == SMFIR_ACCEPT, "not accepted")
	mt.disconnect(conn)
end)
