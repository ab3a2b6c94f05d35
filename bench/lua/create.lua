-- POST new notizia drafts with an API token of the tenant (write scope), each with a title of
-- its own (run, thread, counter), so that no request waits on a slug taken by another.
-- BENCH_PATH: /api/v1/t/<tenant>/entries/notizia; BENCH_TOKEN: cit_…; BENCH_RUN: a run id.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")

local path = os.getenv("BENCH_PATH")
local headers = {
  ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
  ["Content-Type"] = "application/json",
}
local run = os.getenv("BENCH_RUN")
local counter = 0

function request()
  counter = counter + 1
  local body = string.format(
    '{"data":{"title":"Bozza di prova %s %d-%d","summary":"Una bozza scritta dal benchmark.",'
      .. '"body":"Testo della bozza numero **%d** del thread %d."}}',
    run, id or 0, counter, counter, id or 0)
  return wrk.format("POST", path, headers, body)
end
