-- POST the same JSON body (BENCH_BODY) to the paths listed in BENCH_PATHS (one a line),
-- rotating, without credentials: the GraphQL-by-POST scenario, as GraphQL clients send queries.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")

local requests = {}
local next_index = 1

function init(args)
  local body = os.getenv("BENCH_BODY")
  local headers = { ["Content-Type"] = "application/json" }
  for path in io.lines(os.getenv("BENCH_PATHS")) do
    if path ~= "" then
      table.insert(requests, wrk.format("POST", path, headers, body))
    end
  end
  if #requests == 0 then
    error("no paths in " .. os.getenv("BENCH_PATHS"))
  end
  next_index = ((id or 1) - 1) * 7919 % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end
