-- GET requests rotating over the paths listed in the file BENCH_PATHS (one a line), each
-- thread starting at a different place. Every read scenario uses it; bench/harness.py writes
-- the list (tenants, slugs, search words) from the seeded data before the run.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")

local requests = {}
local next_index = 1

function init(args)
  for path in io.lines(os.getenv("BENCH_PATHS")) do
    if path ~= "" then
      table.insert(requests, wrk.format("GET", path))
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
