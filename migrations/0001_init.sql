-- gaussjobs archive schema, version 1.
-- Times are UTC text 'YYYY-MM-DDTHH:MM:SSZ' (SQLite's date functions read it) or NULL.

-- One row per job: the newest state seen. Column names follow the API's field names.
CREATE TABLE jobs (
    job_id          TEXT PRIMARY KEY,
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
    target_config   TEXT,              -- JSON text, NULL when the API sent none
    raw             TEXT NOT NULL,     -- the object exactly as last received
    content_hash    TEXT NOT NULL,     -- fingerprint of the normalised content, to tell versions apart
    version         INTEGER NOT NULL,  -- newest job_history.version of this job
    first_seen_at   TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    last_run_id     INTEGER            -- the sync_runs row that last saw it
);
CREATE INDEX jobs_create_time ON jobs (create_time);
CREATE INDEX jobs_instance_id ON jobs (instance_id, create_time);
CREATE INDEX jobs_instance_name ON jobs (instance_name COLLATE NOCASE, create_time);
CREATE INDEX jobs_status ON jobs (job_status, create_time);
CREATE INDEX jobs_job_name ON jobs (job_name, create_time);
CREATE INDEX jobs_project ON jobs (project_id, create_time);

-- Every distinct version of every job, oldest first: version 1 is the first sighting.
CREATE TABLE job_history (
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
CREATE INDEX job_history_observed_at ON job_history (observed_at);

-- What one sync keeps track of: an endpoint, a project and the filters it was asked for.
CREATE TABLE sync_scopes (
    scope_id        INTEGER PRIMARY KEY,
    endpoint        TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    filter          TEXT NOT NULL,     -- canonical filter text, '' for all jobs
    since           TEXT NOT NULL,     -- the earliest create time this scope reaches back to
    created_at      TEXT NOT NULL,
    UNIQUE (endpoint, project_id, filter)
);

-- The create-time ranges [covered_from, covered_to) of a scope that were fetched completely.
-- Kept merged: ranges of one scope never overlap or touch.
CREATE TABLE sync_coverage (
    scope_id        INTEGER NOT NULL REFERENCES sync_scopes (scope_id),
    covered_from    TEXT NOT NULL,
    covered_to      TEXT NOT NULL,
    PRIMARY KEY (scope_id, covered_from)
);

-- One row per sync run, written when it starts and kept current while it runs.
CREATE TABLE sync_runs (
    run_id            INTEGER PRIMARY KEY,
    started_at        TEXT NOT NULL,
    finished_at       TEXT,
    endpoint          TEXT NOT NULL,
    project_id        TEXT NOT NULL,
    scope_id          INTEGER REFERENCES sync_scopes (scope_id),
    range_start       TEXT,              -- the create-time range asked for
    range_end         TEXT,
    options           TEXT NOT NULL,     -- JSON: window, lookback, page_size, filters
    windows_planned   INTEGER NOT NULL DEFAULT 0,
    windows_completed INTEGER NOT NULL DEFAULT 0,
    requests          INTEGER NOT NULL DEFAULT 0,
    jobs_new          INTEGER NOT NULL DEFAULT 0,
    jobs_changed      INTEGER NOT NULL DEFAULT 0,
    jobs_unchanged    INTEGER NOT NULL DEFAULT 0,
    outcome           TEXT NOT NULL,     -- running | ok | failed | interrupted (killed; marked by the next run)
    error             TEXT,
    pid               INTEGER,
    host              TEXT,
    tool_version      TEXT NOT NULL
);
CREATE INDEX sync_runs_started_at ON sync_runs (started_at);
