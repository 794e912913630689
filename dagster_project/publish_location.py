"""The publish job's own definitions: what `hubwatch publish` and `hubwatch dashboards` run."""

import dagster as dg


def publish_location() -> dg.Definitions:
    """The code location's publish job with only what it runs: the package-and-site asset and the settings and
    progress resources. `hubwatch publish` and `hubwatch dashboards` load this instead of the whole
    code location, which imports dagster-dbt and dbt-core and builds dbt's ~470 nodes (about a
    third of a publish's CPU); the run, its events and its materialisations are the same."""
    from dagster_project.defs.automation.jobs import publish_job
    from dagster_project.defs.publish.assets import package
    from dagster_project.defs.resources import HubwatchSettings, progress

    return dg.Definitions(
        assets=[package], jobs=[publish_job], resources={"settings": HubwatchSettings(), "progress": progress()}
    )
