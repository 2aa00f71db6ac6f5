-- gaussjobs archive schema, version 5: objects that are not jobs, and counts that disagree.
--
-- * `rejected_objects` keeps, exactly as received, each object of a page that could not be
--   archived as a job (it has no usable job_id: missing, null, empty, not a string). The rest
--   of its page is archived and its window counts as fetched; one row per distinct object and
--   scope, however often the API sends it again.
-- * `sync_runs.objects_rejected`: such objects a run met (each once per run).
-- * `sync_runs.anomalies` and `anomaly_notes`: listings whose pages disagreed with the API's
--   own total_count, and what each said. The jobs the pages served were archived: a window
--   whose count ran short of what two pagings of it agreed on is taken as complete.

CREATE TABLE rejected_objects (
    id              INTEGER PRIMARY KEY,
    scope_id        INTEGER NOT NULL REFERENCES sync_scopes (scope_id),
    run_id          INTEGER,           -- the sync_runs row that first met it
    window_start    TEXT,              -- the create-time window whose page held it (NULL for other listings)
    window_end      TEXT,
    reason          TEXT NOT NULL,     -- why it is not a job, e.g. 'job_id is missing'
    raw             TEXT NOT NULL,     -- the object exactly as received
    raw_hash        TEXT NOT NULL,     -- SHA-256 of raw, hex: one row per object and scope
    seen_at         TEXT NOT NULL,     -- when it was first met
    last_seen_at    TEXT NOT NULL,
    last_run_id     INTEGER,
    sightings       INTEGER NOT NULL DEFAULT 1,  -- runs that met it
    UNIQUE (scope_id, raw_hash)
);

ALTER TABLE sync_runs ADD COLUMN objects_rejected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN anomalies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN anomaly_notes TEXT;  -- one line per anomaly (the first 20), NULL when none
