-- GET phases (healthz, lists, one thread): the URL comes from the command line.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
