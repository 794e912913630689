"""The trend site, rendered from the published package (never the live warehouse)."""

import dagster as dg

from dagster_project.defs.resources import HubwatchSettings
from dashboards.queries import PackageError
from dashboards.site import render_site


@dg.asset(
    key=["dashboards", "site"],
    deps=[dg.AssetKey(["publish", "package"])],
    group_name="dashboards",
    kinds={"html", "plotly"},
    description="publish/latest/dashboards/: static Plotly pages with CSV downloads, offline.",
)
def site(settings: HubwatchSettings) -> dg.MaterializeResult:
    try:
        index = render_site(settings.home_path / "publish" / "latest")
    except PackageError as error:
        raise dg.Failure(description=str(error)) from None
    return dg.MaterializeResult(metadata={"index": str(index), "pages": len(list(index.parent.glob("*.html")))})
