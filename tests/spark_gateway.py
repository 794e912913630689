"""dbt on Spark in a process that keeps its JVM for the next Spark process (the cross-engine test).

Every dbt run on Spark (dbt-spark's `session` method: pyspark in dbt's process) starts a JVM of
its own: Spark's and Hive's start-up, and every query of the run cold while the JVM loads and
compiles Spark's code. The cross-engine test runs two Spark steps, so it paid for that twice.
This runs the first step with dbt's own programmatic entry point (`dbtRunner`, the arguments the
test gives), then stops its Spark context (the JVM keeps running, its classes loaded and its
code compiled) and writes where the JVM's py4j gateway listens. pyspark in a later process given
PYSPARK_GATEWAY_PORT and PYSPARK_GATEWAY_SECRET (as `spark-submit` gives a Python driver) starts
its Spark context in that JVM instead of launching one. This process holds the JVM until its
stdin closes (the JVM dies with it: pyspark's JVM exits when its own stdin closes).

    python tests/spark_gateway.py INFO_JSON DBT_ARGUMENTS...

INFO_JSON gets {"success": dbt's outcome, "port": ..., "secret": ...} (port and secret null if no
JVM was started). dbt's output goes to this process's stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson


def main() -> None:
    from dbt.cli.main import dbtRunner
    from pyspark import SparkContext

    info, args = Path(sys.argv[1]), sys.argv[2:]
    result = dbtRunner().invoke(args)
    port = secret = None
    if SparkContext._active_spark_context is not None:  # noqa: SLF001 (pyspark's one context of a process)
        # a JVM runs one Spark context at a time: the next process's starts once this one stops
        SparkContext._active_spark_context.stop()  # noqa: SLF001
    if SparkContext._gateway is not None:  # noqa: SLF001
        parameters = SparkContext._gateway.gateway_parameters  # noqa: SLF001
        port, secret = parameters.port, parameters.auth_token
    written = info.with_name(info.name + ".tmp")
    written.write_bytes(orjson.dumps({"success": bool(result.success), "port": port, "secret": secret}))
    written.rename(info)
    sys.stdout.flush()
    sys.stdin.read()  # the JVM is kept until the test closes this process's stdin


if __name__ == "__main__":
    main()
