-- gaussjobs archive schema, version 3: views for the questions people ask most.
--
-- Plain SQL that any SQLite shell reads (no window functions, no unixepoch()), so the views
-- work in older sqlite3 binaries too. Times are UTC text; strftime('%s', ...) gives seconds.

-- Every job with how long it waited to start and how long it ran, in seconds. NULL when the
-- API has not (yet) given the times.
CREATE VIEW job_durations AS
SELECT
    job_id,
    project_id,
    instance_id,
    instance_name,
    job_name,
    job_status,
    create_time,
    start_time,
    end_time,
    CAST(strftime('%s', start_time) AS INTEGER) - CAST(strftime('%s', create_time) AS INTEGER)
        AS wait_seconds,
    CAST(strftime('%s', end_time) AS INTEGER) - CAST(strftime('%s', start_time) AS INTEGER)
        AS duration_seconds
FROM jobs;

-- Every change of a job's status the archive saw, in the order versions were seen. The first
-- sighting is a transition from NULL. Versions that changed something other than the status
-- (an end time filled in, the instance's status) are left out.
CREATE VIEW status_transitions AS
SELECT
    cur.job_id,
    cur.job_name,
    cur.instance_id,
    cur.instance_name,
    cur.version,
    prev.job_status AS from_status,
    cur.job_status AS to_status,
    cur.observed_at,
    cur.run_id
FROM job_history AS cur
LEFT JOIN job_history AS prev
    ON prev.job_id = cur.job_id AND prev.version = cur.version - 1
WHERE prev.job_id IS NULL OR prev.job_status IS NOT cur.job_status;

-- `query stats` reads every matching job's keys and times. This index holds exactly those
-- columns, create time first, so a stats question reads the index (a tenth of the table, which
-- also carries raw JSON) and a --since range reads only its part.
CREATE INDEX jobs_stats ON jobs (
    create_time, job_status, job_name, instance_id, project_id, start_time, end_time
);

-- `query as-of` finds each job's newest version seen by a time, and may test its status then;
-- with these columns in the index neither needs to read the history rows (which carry raw
-- JSON) of jobs that do not match.
CREATE INDEX job_history_as_of ON job_history (job_id, version, observed_at, job_status);
