-- Step 70: the recurring jobs in pg_cron, with their default schedules
-- (the demo database inventory_cron is pg_cron's cron.database_name).
\echo
\echo '== Schedule =='

SELECT job_name, schedule, command FROM inventory.schedule_jobs();

-- scheduling again replaces the jobs (same names): still four below
SELECT count(*) AS jobs_rescheduled FROM inventory.schedule_jobs();

-- what a DBA watches: no run yet, since they were scheduled seconds ago
SELECT job_name, schedule, active, recent_runs, recent_failures,
       last_status
FROM inventory.job_runs;

-- Unscheduled at the end.  bin/demo throws its cluster away seconds from
-- now, so no job would run anyway; but these steps may also be run by
-- hand on a database that is kept, and a demo must not leave jobs behind
-- that archive old months every night.  Use schedule_jobs() for real.
SELECT inventory.unschedule_jobs() AS jobs_removed;
SELECT count(*) AS jobs_left FROM inventory.job_runs;
