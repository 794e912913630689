"""What a daily `hubwatch build` pays before dbt starts: HUBWATCH_HOME=<home> python -m benchmarks.startup

In this one fresh process, as `hubwatch build` does it: import the CLI and Dagster, open the home's
Dagster instance, load the code location and resolve the build's job. Prints each phase's wall
time, the process's CPU seconds (the figure to compare on a shared machine), how many modules were
imported and the load average. Nothing is built or written but the instance's folder.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main() -> None:
    marks = [("start", time.perf_counter())]
    import dagster_project.cli  # noqa: F401 (what `hubwatch` imports first)

    marks.append(("cli", time.perf_counter()))
    import dagster  # noqa: F401

    marks.append(("dagster", time.perf_counter()))
    from dagster_project import runs
    from ingest.home import hubwatch_home
    from ingest.landing import no_progress

    home = hubwatch_home()
    runs.use_instance(home)
    marks.append(("instance", time.perf_counter()))
    definitions = runs.code_location(home)
    marks.append(("definitions", time.perf_counter()))
    runs.with_progress(definitions, no_progress).resolve_job_def("rebuild_from_raw_job")
    marks.append(("job", time.perf_counter()))
    phases = " ".join(f"{name} {end - begin:.2f}s" for (_, begin), (name, end) in zip(marks, marks[1:], strict=False))
    print(
        f"{phases}; total {marks[-1][1] - marks[0][1]:.2f}s wall, {time.process_time():.2f}s CPU; "
        f"{len(sys.modules)} modules; load {os.getloadavg()[0]:.1f} ({Path(home)})"
    )


if __name__ == "__main__":
    main()
