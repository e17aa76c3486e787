-- POST /api/v1/chat/threads with a realistic body: name, description and ~400 B of extra_data.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"assistant_type":"campaign_creation","name":"Spring campaign for the Paris store",]] ..
  [["description":"Search and local campaign, planned with the client on Monday",]] ..
  [["extra_data":{"source":"bench","campaign":{"name":"Spring sale","budget_micros":25000000,]] ..
  [["bidding":"MAXIMIZE_CONVERSIONS","start_date":"2026-03-01","end_date":"2026-05-31"},]] ..
  [["keywords":["fresh bread","croissant delivery","bakery near me","sourdough paris","birthday cakes"],]] ..
  [["audience":{"age":["25-34","35-44"],"radius_km":12,"languages":["fr","en"]},]] ..
  [["notes":"Client asked for a weekly summary with cost per conversion and store visits."}}]]
