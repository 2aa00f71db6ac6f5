-- gaussjobs archive schema, version 4: fewer index entries per new job.
--
-- Every index is updated for every new job, and at 200,000 jobs a sync spent most of its time
-- doing so. This migration removes the entries no query needs:
-- * jobs_create_time: jobs_stats starts with create_time and serves the same ranges.
-- * jobs_open: the open-job refresh reads jobs_status (job_status, create_time) instead; open
--   jobs are few, so filtering their rows by project costs little.
-- * job_history's primary key and observed_at index: job_history_as_of already starts with
--   (job_id, version) and answers every lookup the key did. The only writer, which gives each
--   version the number after the newest one in one transaction, keeps (job_id, version) unique.

DROP INDEX jobs_create_time;
DROP INDEX jobs_open;

-- job_history is rebuilt as a rowid table; the view that reads it is set aside meanwhile.
DROP VIEW status_transitions;

CREATE TABLE job_history_v4 (
    job_id          TEXT NOT NULL,
    version         INTEGER NOT NULL,
    observed_at     TEXT NOT NULL,     -- when this version was first seen
    run_id          INTEGER,           -- the sync_runs row that saw it first
    changed         TEXT,              -- JSON array of the columns that differ from the previous version; NULL for version 1
    project_id      TEXT,
    instance_id     TEXT,
    instance_name   TEXT,
    instance_status TEXT,
    job_name        TEXT,
    job_status      TEXT,
    datastore_type  TEXT,
    create_time     TEXT,
    start_time      TEXT,
    end_time        TEXT,
    target_config   TEXT,
    raw             TEXT NOT NULL
);
INSERT INTO job_history_v4 (job_id, version, observed_at, run_id, changed, project_id,
    instance_id, instance_name, instance_status, job_name, job_status, datastore_type,
    create_time, start_time, end_time, target_config, raw)
SELECT job_id, version, observed_at, run_id, changed, project_id, instance_id, instance_name,
    instance_status, job_name, job_status, datastore_type, create_time, start_time, end_time,
    target_config, raw
FROM job_history ORDER BY rowid;
DROP TABLE job_history;
ALTER TABLE job_history_v4 RENAME TO job_history;

-- A job's versions in order, with what `query as-of` and status_transitions test, so neither
-- reads the history rows (which carry raw JSON) of versions they skip.
CREATE INDEX job_history_as_of ON job_history (job_id, version, observed_at, job_status);

-- As in version 3.
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
