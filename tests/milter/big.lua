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
	pd_check(mt.eom_check(conn, MT_HDRINSERT, "X-Patch-Kind", "patch"),
	    "not tagged from its headers")
	local hwm = pd_vmhwm()
	mt.echo("VmHWM " .. hwm .. " kB")
	pd_check(hwm < tonumber(LIMIT_KB), "peak RSS " .. hwm .. " kB, limit " .. LIMIT_KB .. " kB")
	mt.disconnect(conn)
end)
