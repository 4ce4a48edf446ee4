"""Measure imports outside the request: the upload is stored encrypted, a MeasureImport row
records it, and a job (a background thread of the same process, or `flask measures
imports-resume`) reads it back, writes batches and keeps the row's progress up to date.

Why it survives anything: the job claims its row atomically (pending, or running with a dead
runner or a stale heartbeat), each batch commits its rows together with the counters that
describe them, and rows go in with INSERT ... ON CONFLICT DO NOTHING on the measures' unique
index, so a re-run after a crash adds only what is missing. The file is crypto-shredded when
the job ends.

Why a crash is noticed at once: the row names its runner (host, boot id, pid and the
process's start time). On the same host, a runner whose pid is gone, or now belongs to
another process (another start time), or another boot, is dead at once; a job run by this
very process is dead when its thread is; elsewhere, the 2-minute heartbeat decides. Every
worker process takes over dead jobs when it starts (gunicorn.conf.py: gunicorn restarts a
killed worker) and then every WATCH_SECONDS from a light thread (`watch`); the import pages
do too. Counters are the job's, across attempts: a resumed attempt adds to what earlier ones
stored (each batch commits its rows with them), so the page never undercounts.

Why it is fast: the job's thread only writes (SQLite works without the GIL) while the file
is parsed elsewhere: in a process of its own for a large file (pipeline.ParseProcess), else
in a second thread (pipeline.ThreadPipe), with a reader decrypting (and inflating) ahead of
it. All database work stays in the job's thread and session. A zip is stored as it came (an Apple export
inflates twentyfold) and inflated by the job as it reads.

The modules: `upload` checks and stores the file; `jobs` claims, runs and takes over the jobs;
`pipeline` parses (in a thread or a process) while `writer` writes the batches; `importers/`
reads each file format; `routes` and `forms` are the pages.
"""
