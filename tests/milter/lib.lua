-- Shared helpers of the miltertest scripts (loaded with dofile(LIB)).
-- Globals set by tests/integration/60-miltertest.sh with miltertest -D:
-- SOCK (the milter's socket), PID (its process id), and message files.

function pd_check(cond, what)
	if not cond then
		error(what, 2)
	end
end

-- Run f; print the error text (miltertest does not) and fail the script.
function pd_run(name, f)
	local ok, err = pcall(f)
	if not ok then
		mt.echo("FAIL " .. name .. ": " .. tostring(err))
		error(err)
	end
	mt.echo("ok " .. name)
end

function pd_read(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("*a")
	f:close()
	return s
end

-- Header fields as an MTA hands them over (value without leading blanks,
-- folds kept with LF) and the body with CRLF line ends.
function pd_split(raw)
	raw = raw:gsub("\r\n", "\n")
	local cut = raw:find("\n\n", 1, true)
	local head, body
	if cut then
		head = raw:sub(1, cut)
		body = raw:sub(cut + 2)
	else
		head = raw .. "\n"
		body = ""
	end
	local hdrs = {}
	for line in head:gmatch("([^\n]*)\n") do
		if line:match("^[ \t]") and #hdrs > 0 then
			hdrs[#hdrs].value = hdrs[#hdrs].value .. "\n" .. line
		elseif not (#hdrs == 0 and line:match("^From ")) then
			local n, v = line:match("^([^:%s]+):[ \t]*(.*)$")
			if n then
				table.insert(hdrs, { name = n, value = v })
			end
		end
	end
	return hdrs, (body:gsub("\n", "\r\n"))
end

function pd_connect()
	local conn = mt.connect(SOCK, 20, 0.25)
	pd_check(conn ~= nil, "cannot connect to " .. tostring(SOCK))
	pd_check(mt.conninfo(conn, "client.example.org", "192.0.2.10") == nil,
	    "conninfo")
	pd_check(mt.getreply(conn) == SMFIR_CONTINUE, "conninfo reply")
	-- the filter negotiates what it needs, and no more
	pd_check(mt.test_action(conn, SMFIF_ADDHDRS), "ADDHDRS not requested")
	pd_check(mt.test_action(conn, SMFIF_CHGHDRS), "CHGHDRS not requested")
	pd_check(not mt.test_action(conn, SMFIF_CHGBODY), "CHGBODY requested")
	pd_check(mt.test_option(conn, SMFIP_NOHELO), "HELO step not skipped")
	-- every answer is given at end of message: no reply before it
	pd_check(mt.test_option(conn, SMFIP_NR_CONN), "reply to connect asked")
	pd_check(mt.test_option(conn, SMFIP_NR_MAIL), "reply to MAIL asked")
	pd_check(mt.test_option(conn, SMFIP_NR_HDR), "reply to headers asked")
	pd_check(mt.test_option(conn, SMFIP_NR_BODY), "reply to body asked")
	-- on TCP (INET set) a reply to DATA, so that the MTA's Nagle algorithm
	-- has nothing unacknowledged to wait for when the message comes; on a
	-- unix socket no DATA step
	if INET then
		pd_check(not mt.test_option(conn, SMFIP_NODATA), "DATA step skipped on inet")
		pd_check(not mt.test_option(conn, SMFIP_NR_DATA), "no reply to DATA on inet")
	else
		pd_check(mt.test_option(conn, SMFIP_NODATA), "DATA step asked on unix")
	end
	-- header values with their leading blank, so the tags' values give it
	pd_check(mt.test_option(conn, SMFIP_HDR_LEADSPC), "SMFIP_HDR_LEADSPC not asked")
	return conn
end

-- The envelope and the header block of one message.
function pd_begin(conn, hdrs, qid)
	pd_check(mt.macro(conn, SMFIC_MAIL, "i", qid) == nil, "macro")
	pd_check(mt.mailfrom(conn, "<author@example.org>") == nil, "mailfrom")
	pd_check(mt.getreply(conn) == SMFIR_CONTINUE, "mailfrom reply")
	if not mt.test_option(conn, SMFIP_NORCPT) then
		pd_check(mt.rcptto(conn, "<list@example.org>") == nil, "rcptto")
	end
	if not mt.test_option(conn, SMFIP_NODATA) then
		pd_check(mt.data(conn) == nil, "data")
		pd_check(mt.getreply(conn) == SMFIR_CONTINUE, "data reply")
	end
	for _, h in ipairs(hdrs) do
		pd_check(mt.header(conn, h.name, h.value) == nil, "header " .. h.name)
	end
	if not mt.test_option(conn, SMFIP_NOEOH) then
		pd_check(mt.eoh(conn) == nil, "eoh")
	end
end

-- One whole message; returns the reply to end of message.
function pd_message(conn, hdrs, body, qid)
	pd_begin(conn, hdrs, qid)
	local pos = 1
	while pos <= #body do
		pd_check(mt.bodystring(conn, body:sub(pos, pos + 65534)) == nil, "body")
		pos = pos + 65535
	end
	pd_check(mt.eom(conn) == nil, "eom")
	return mt.getreply(conn)
end

function pd_header_of(hdrs, name)
	for _, h in ipairs(hdrs) do
		if h.name:lower() == name:lower() then
			return h.value
		end
	end
	return nil
end

-- The daemon's peak resident memory in kB.
function pd_vmhwm()
	local s = pd_read("/proc/" .. PID .. "/status")
	return tonumber(s:match("VmHWM:%s*(%d+)"))
end
