-- A message far over MaxMessageSize: still tagged from its headers, and
-- the daemon's peak memory stays bounded.
dofile(LIB)

pd_run("60 MB message with bounded memory", function()
	local hdrs = pd_split(pd_read(PATCH))
	local conn = pd_connect()
	pd_begin(conn, hdrs, "QIDBIG")
	-- in chunks of at most 65535 bytes, as an MTA sends them (libmilter
	-- drops a connection sending more; mt.bodyfile sends 65536)
	local f = assert(io.open(BIGBODY, "rb"))
	local total = 0
	while true do
		local chunk = f:read(65535)
		if chunk == nil then
			break
		end
		pd_check(mt.bodystring(conn, chunk) == nil, "body at " .. total)
		total = total + #chunk
	end
	f:close()
	pd_check(total >= 60 * 1024 * 1024, "body only " .. total .. " bytes")
	pd_check(mt.eom(conn) == nil, "eom")
	pd_check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
	pd_check(mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind", " patch"),
	    "not tagged from its headers")
	local hwm = pd_vmhwm()
	mt.echo("VmHWM " .. hwm .. " kB")
	pd_check(hwm < tonumber(LIMIT_KB), "peak RSS " .. hwm .. " kB, limit " .. LIMIT_KB .. " kB")
	mt.disconnect(conn)
end)

-- Many large messages at once: all connections together buffer at most four
-- times MaxMessageSize, not each its own; every message is still tagged.
pd_run("24 messages of 8 MB at once with bounded memory", function()
	local hdrs = pd_split(pd_read(PATCH))
	local conns = {}
	for i = 1, 24 do
		conns[i] = pd_connect()
		pd_begin(conns[i], hdrs, "QIDMANY" .. i)
	end
	local f = assert(io.open(BIGBODY, "rb"))
	for _ = 1, 128 do
		local chunk = assert(f:read(65535))
		for i = 1, #conns do
			pd_check(mt.bodystring(conns[i], chunk) == nil, "body")
		end
	end
	local hwm = pd_vmhwm()
	mt.echo("VmHWM " .. hwm .. " kB")
	pd_check(hwm < 2 * tonumber(LIMIT_KB),
	    "peak RSS " .. hwm .. " kB, limit " .. 2 * tonumber(LIMIT_KB) .. " kB")
	-- the last one goes on once the others are done and the budget is
	-- free: what it holds stays the start of its message, without a hole
	-- (60-miltertest.sh reads the length it logs)
	for i = 1, #conns do
		if i == #conns then
			for _ = 1, 160 do
				pd_check(mt.bodystring(conns[i], assert(f:read(65535))) == nil,
				    "body after the others")
			end
		end
		pd_check(mt.eom(conns[i]) == nil, "eom")
		pd_check(mt.getreply(conns[i]) == SMFIR_ACCEPT, "not accepted")
		pd_check(mt.eom_check(conns[i], MT_HDRINSERT, "X-Patch-Kind", " patch"),
		    "not tagged")
		mt.disconnect(conns[i])
	end
	f:close()
end)
