-- gaussjobs archive schema, version 2: watching jobs that have not finished.
--
-- A sync asks the API by job_id for archived jobs still Pending, Running or Unauthorized that
-- no open list returned. When the API no longer knows such a job (it forgets old jobs), the
-- time is recorded here and the job is no longer asked for; its last known state stays.
ALTER TABLE jobs ADD COLUMN api_gone_at TEXT;

-- The open-job refresh looks jobs up by status within a project.
CREATE INDEX jobs_open ON jobs (project_id, job_status) WHERE api_gone_at IS NULL;
