"""Failed runs are recorded where an operator (and the dashboards' coverage page) can find them."""

import dagster as dg

from dagster_project.defs.automation import automation_on
from dagster_project.defs.resources import HubwatchSettings
from dagster_project.runs import record_failed_run


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING if automation_on() else dg.DefaultSensorStatus.STOPPED,
    monitor_all_code_locations=False,
)
def record_failed_runs(context: dg.RunFailureSensorContext, settings: HubwatchSettings) -> None:
    """Append one line per failed run to $HUBWATCH_HOME/logs/failed_runs.jsonl."""
    run = context.dagster_run
    message = context.failure_event.message or "run failed"
    record_failed_run(settings.home_path, run.run_id, run.job_name, run.tags.get("dagster/partition"), message)
