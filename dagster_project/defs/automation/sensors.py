"""Failed runs are recorded where an operator (and the dashboards' coverage page) can find them."""

from datetime import UTC, datetime

import dagster as dg
import orjson

from dagster_project.defs.automation import automation_on
from dagster_project.defs.resources import HubwatchSettings


def record_failure(home, run_id: str, job: str, partition: str | None, message: str) -> None:
    path = home / "logs" / "failed_runs.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {
        "at": datetime.now(UTC).isoformat(),
        "run_id": run_id,
        "job": job,
        "partition": partition,
        "error": message,
    }
    with path.open("ab") as handle:
        handle.write(orjson.dumps(line) + b"\n")


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING if automation_on() else dg.DefaultSensorStatus.STOPPED,
    monitor_all_code_locations=False,
)
def record_failed_runs(context: dg.RunFailureSensorContext, settings: HubwatchSettings) -> None:
    """Append one line per failed run to $HUBWATCH_HOME/logs/failed_runs.jsonl."""
    run = context.dagster_run
    message = context.failure_event.message or "run failed"
    record_failure(settings.home_path, run.run_id, run.job_name, run.tags.get("dagster/partition"), message)
