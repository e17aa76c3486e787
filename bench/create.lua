-- POST /api/v1/chat/threads with a realistic body (create-body.json, which bench/instructions
-- sends too): name, description and ~400 B of extra_data.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local file = assert(io.open(os.getenv("BENCH_DIR") .. "/create-body.json"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = file:read("*a")
file:close()
