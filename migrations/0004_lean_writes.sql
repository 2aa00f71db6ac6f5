-- gaussjobs archive schema, version 4: a new job is written once, with fewer index entries.
--
-- Every index is updated for every new job, and at 200,000 jobs a sync spent most of its time
-- doing so, half of it writing each new job a second time as job_history's version 1. Now:
-- * `jobs` holds each job's newest version together with when it was first seen
--   (version_observed_at), by which run (version_run_id) and what it changed
--   (version_changed): the job_history columns of that version.
-- * `superseded_versions` holds the versions a job has moved on from, copied there when a newer
--   one arrives. Most jobs never change once finished, so most never get a row here.
-- * `job_history` becomes a view of both: every version of every job, as before.
-- * jobs_create_time goes: jobs_stats starts with create_time and serves the same ranges.
-- * jobs_open goes: the open-job refresh reads jobs_status (job_status, create_time); open jobs
--   are few, so filtering their rows by project costs little.
-- * jobs_instance_name goes: its case-blind comparisons made it the dearest index to write.
--   `instance_names` lists each name an instance had (the writer adds a pair when it archives
--   a version with a new one); `--instance NAME` finds the instance ids there and their jobs
--   through jobs_instance_id. A trigger would keep it for any writer, but made every insert
--   open a statement journal and halved the store's speed.

DROP INDEX jobs_create_time;
DROP INDEX jobs_open;
DROP INDEX jobs_instance_name;
DROP VIEW status_transitions;

ALTER TABLE jobs ADD COLUMN version_observed_at TEXT;  -- when the newest version was first seen
ALTER TABLE jobs ADD COLUMN version_run_id INTEGER;    -- the sync_runs row that saw it first
ALTER TABLE jobs ADD COLUMN version_changed TEXT;      -- JSON array of the columns it changed; NULL for version 1

UPDATE jobs SET (version_observed_at, version_run_id, version_changed) = (
    SELECT h.observed_at, h.run_id, h.changed FROM job_history h
    WHERE h.job_id = jobs.job_id AND h.version = jobs.version);
UPDATE jobs SET version_observed_at = first_seen_at WHERE version_observed_at IS NULL;

-- Versions a job has moved on from, oldest first. The columns are job_history's.
CREATE TABLE superseded_versions (
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
    raw             TEXT NOT NULL,
    PRIMARY KEY (job_id, version)
);
INSERT INTO superseded_versions
SELECT h.job_id, h.version, h.observed_at, h.run_id, h.changed, h.project_id, h.instance_id,
    h.instance_name, h.instance_status, h.job_name, h.job_status, h.datastore_type,
    h.create_time, h.start_time, h.end_time, h.target_config, h.raw
FROM job_history h JOIN jobs j ON j.job_id = h.job_id AND h.version < j.version
ORDER BY h.rowid;

-- Every name each instance was archived under, case-blind as users type them.
CREATE TABLE instance_names (
    instance_name   TEXT NOT NULL COLLATE NOCASE,
    instance_id     TEXT NOT NULL,
    PRIMARY KEY (instance_name, instance_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO instance_names (instance_name, instance_id)
SELECT DISTINCT instance_name, instance_id FROM job_history
WHERE instance_name IS NOT NULL AND instance_id IS NOT NULL;

DROP TABLE job_history;

-- `query as-of` finds the newest version seen by a time and may test its status then; with
-- these columns in the index it does not read the rows (which carry raw JSON) it skips.
CREATE INDEX superseded_versions_as_of
    ON superseded_versions (job_id, version, observed_at, job_status);
CREATE INDEX superseded_versions_observed_at ON superseded_versions (observed_at);

-- Every distinct version of every job: version 1 is the first sighting, the newest is the one
-- in `jobs`.
CREATE VIEW job_history AS
SELECT job_id, version, observed_at, run_id, changed, project_id, instance_id, instance_name,
    instance_status, job_name, job_status, datastore_type, create_time, start_time, end_time,
    target_config, raw
FROM superseded_versions
UNION ALL
SELECT job_id, version, version_observed_at, version_run_id, version_changed, project_id,
    instance_id, instance_name, instance_status, job_name, job_status, datastore_type,
    create_time, start_time, end_time, target_config, raw
FROM jobs;

-- Every change of a job's status the archive saw, as in version 3. A version's predecessor is
-- always superseded, so it is looked up there by key.
CREATE VIEW status_transitions AS
SELECT cur.job_id, cur.job_name, cur.instance_id, cur.instance_name, cur.version,
    prev.job_status AS from_status, cur.job_status AS to_status, cur.observed_at, cur.run_id
FROM superseded_versions AS cur
LEFT JOIN superseded_versions AS prev
    ON prev.job_id = cur.job_id AND prev.version = cur.version - 1
WHERE prev.job_id IS NULL OR prev.job_status IS NOT cur.job_status
UNION ALL
SELECT cur.job_id, cur.job_name, cur.instance_id, cur.instance_name, cur.version,
    prev.job_status, cur.job_status, cur.version_observed_at, cur.version_run_id
FROM jobs AS cur
LEFT JOIN superseded_versions AS prev
    ON prev.job_id = cur.job_id AND prev.version = cur.version - 1
WHERE prev.job_id IS NULL OR prev.job_status IS NOT cur.job_status;
