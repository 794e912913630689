"""The spark profile's settings as dbt renders them from the environment (dbt/profiles.yml).

Spark fails a query whose dynamic-partition-pruning filter it evaluates without whole-stage codegen
("IN dynamicpruning#... has not finished"; adaptive execution on or off), which the documented
small-data setting HUBWATCH_SPARK_WHOLESTAGE_CODEGEN=false asks for: the profile turns that pruning
off under it, and only then. (tests/test_spark_engine.py builds on Spark with that setting; this
checks the rule without a JVM.)
"""

from __future__ import annotations

import os

import pytest
from dbt.config.profile import read_profile
from dbt.config.renderer import ProfileRenderer
from dbt_common.context import set_invocation_context

from dagster_project.warehouse import DBT_DIR

PRUNING = "spark.sql.optimizer.dynamicPartitionPruning.enabled"


def spark_parameters(monkeypatch, **env: str | None) -> dict[str, str]:
    """The spark output's server_side_parameters as dbt renders them under env (None: unset)."""
    for key, value in env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    set_invocation_context(dict(os.environ))  # dbt's env_var() reads the invocation's environment
    raw = read_profile(str(DBT_DIR))
    return ProfileRenderer(cli_vars={}).render_data(raw["hubwatch"]["outputs"]["spark"]["server_side_parameters"])


@pytest.mark.parametrize(
    ("codegen", "adaptive", "pruning"),
    [
        (None, None, "true"),  # the defaults: compiled queries, adaptive execution
        ("false", "false", "false"),  # the small-data settings: pruning would fail
        ("FALSE", "False", "false"),
        ("false", None, "false"),  # fails with adaptive execution too
        (None, "false", "true"),  # compiled queries evaluate it (a Spark build passed so)
        ("true", "false", "true"),
    ],
)
def test_dynamic_partition_pruning_is_off_only_where_spark_fails_it(monkeypatch, codegen, adaptive, pruning):
    parameters = spark_parameters(
        monkeypatch, HUBWATCH_SPARK_WHOLESTAGE_CODEGEN=codegen, HUBWATCH_SPARK_ADAPTIVE=adaptive
    )
    assert parameters[PRUNING] == pruning
    assert parameters["spark.sql.adaptive.enabled"].lower() == (adaptive or "true").lower()
