"""Every day at 06:00 UTC: today's partition of the daily job (running only where HUBWATCH_SCHEDULE=on)."""

import dagster as dg

from dagster_project.defs.automation import automation_on
from dagster_project.defs.automation.jobs import daily_job

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    hour_of_day=6,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.RUNNING if automation_on() else dg.DefaultScheduleStatus.STOPPED,
)
