"""The published package and the dashboards: checksums, Frictionless, refusal to overwrite,
privacy (no creator or depicted person's name), and the site in a real headless browser."""

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import frictionless
import pytest

from ingest.fakehub import FakeHub
from ingest.fakehub.world import FEMALE_NAMES, MALE_NAMES
from publish.package import PARQUET_ONLY, verify_package
from tests.conftest import hub_env, hubwatch

pytestmark = pytest.mark.slow
XSS = "<img src=x onerror=alert(1)>"
DAYS = ["2025-04-01", "2025-06-01"]


@pytest.fixture(scope="module")
def published(tmp_path_factory, small_world):
    """Snapshots of a world with a hostile model name, built, published and rendered."""
    world = copy.deepcopy(small_world)
    hostile = next(
        m for m in world.models if not m.poi and not m.real_person_name and not m.never_listed and m.deleted_at is None
    )
    hostile.name = XSS
    hostile.versions[0].downloads_per_day = 1e7  # the most downloaded: it is listed on the index page
    home = tmp_path_factory.mktemp("publish") / "home"
    with FakeHub(world) as hub:
        env = hub_env(hub, home)
        for day in DAYS:
            done = hubwatch("snapshot", "--as-of", day, "--images-period", "Month", env=env)
            assert done.returncode == 0, done.stderr
        assert hubwatch("build", env=env, timeout=600).returncode == 0
        done = hubwatch("publish", "--date", "2025-06-01", env=env)
        assert done.returncode == 0, done.stderr
    return home, env, home / "publish" / "2025-06-01"


def test_manifest_checksums_match_and_latest_points_to_it(published):
    home, _env, package = published
    assert verify_package(package) == []
    assert (home / "publish" / "latest").resolve() == package.resolve()
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS", "--quiet"], cwd=package, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr


def test_datapackage_is_valid_frictionless(published):
    report = frictionless.validate(str(published[2] / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:5]


def test_publishing_the_same_date_again_refuses_without_force(published):
    _home, env, package = published
    before = (package / "manifest.json").read_bytes()
    again = hubwatch("publish", "--date", "2025-06-01", env=env)
    assert again.returncode != 0
    assert again.stderr.strip().splitlines()[-1].startswith("hubwatch: error:") and "--force" in again.stderr
    assert (package / "manifest.json").read_bytes() == before


def test_every_copy_of_a_table_holds_the_same_rows(published, tmp_path):
    """The Parquet file equals the DuckDB file's table, and the CSV is byte for byte what DuckDB's
    own writer prints for that table in UTC (publish pre-prints timestamps to save time)."""
    package = published[2]
    manifest = json.loads((package / "manifest.json").read_text())
    with duckdb.connect(str(package / "hubwatch.duckdb"), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        for table, meta in manifest["tables"].items():
            parquet = f"read_parquet('{package}/data/{table}.parquet')"
            for a, b in ((table, parquet), (parquet, table)):
                assert con.sql(f"select count(*) from (from {a} except all from {b})").fetchall() == [(0,)], table  # noqa: S608
            assert con.sql(f"select count(*) from {table}").fetchall() == [(meta["rows"],)]  # noqa: S608
            csv = package / "data" / f"{table}.csv"
            assert csv.exists() == (table not in PARQUET_ONLY) == (f"data/{table}.csv" in meta["files"]), table
            if csv.exists():
                con.execute(f"copy {table} to '{tmp_path}/{table}.csv' (format csv, header true)")
                assert csv.read_bytes() == (tmp_path / f"{table}.csv").read_bytes(), table
    assert manifest["tables"]["images"]["rows"] > 0 and manifest["tables"]["model_snapshots"]["rows"] > 0
    timestamps = [c["name"] for c in manifest["tables"]["models"]["schema"] if c["type"].startswith("TIMESTAMP")]
    assert timestamps  # the pre-printed kind of column is there to compare
    datapackage = json.loads((package / "datapackage.json").read_text())
    assert {r["name"] for r in datapackage["resources"]} == set(manifest["tables"]) - set(PARQUET_ONLY)


def every_string(package: Path) -> str:
    """All text a reader can get out of the package: every cell of every table, every text file."""
    texts = [p.read_text(errors="replace") for p in package.rglob("*") if p.suffix in (".csv", ".md", ".json")]
    with duckdb.connect(str(package / "hubwatch.duckdb"), read_only=True) as con:
        for (table,) in con.sql("select table_name from duckdb_tables()").fetchall():
            texts.append(str(con.sql(f"select * from {table}").fetchall()))  # noqa: S608
    for parquet in package.glob("data/*.parquet"):
        texts.append(str(duckdb.sql(f"select * from read_parquet('{parquet}')").fetchall()))  # noqa: S608
    return "\n".join(texts).lower()


def test_no_creator_or_depicted_persons_name_by_default(published, small_world):
    text = every_string(published[2])
    creators = {m.creator for m in small_world.models}
    assert not [c for c in creators if c.lower() in text]
    assert not [n for n in FEMALE_NAMES + MALE_NAMES if n in text]
    assert "redacted:" in text  # real-person Hugging Face repos are there, hashed


def test_include_names_keeps_them(published, tmp_path):
    home, env, _package = published
    copy_home = tmp_path / "home"
    shutil.copytree(home, copy_home, symlinks=True)
    done = hubwatch("publish", "--date", "2025-06-02", "--include-names", env={**env, "HUBWATCH_HOME": str(copy_home)})
    assert done.returncode == 0, done.stderr
    assert [n for n in FEMALE_NAMES + MALE_NAMES if n in every_string(copy_home / "publish" / "2025-06-02")]


def test_the_package_holds_monthly_coverage_and_the_rules_changelog(published):
    """The population the monthly tables count, and what changed between rule sets: as tables,
    and the changelog in CODEBOOK.md too."""
    package = published[2]
    manifest = json.loads((package / "manifest.json").read_text())
    assert manifest["rules_version"] == "v2"
    assert manifest["tables"]["monthly_coverage"]["rows"] > 0
    with duckdb.connect(str(package / "hubwatch.duckdb"), read_only=True) as con:
        versions = [v for (v,) in con.sql("select distinct rules_version from rules_changelog order by 1").fetchall()]
    assert versions == ["v1", "v2"]
    codebook = (package / "CODEBOOK.md").read_text()
    changelog = codebook.split("## Rules changelog", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in changelog.splitlines() if line.startswith("| v")]
    assert len(rows) == manifest["tables"]["rules_changelog"]["rows"] and any("file-hash tier" in r for r in rows)
    assert "## monthly_coverage" in codebook and "## rules_changelog" in codebook


def test_a_home_whose_path_holds_a_quote_publishes(published, tmp_path):
    home, env, _package = published
    quoted_home = tmp_path / "o'brien" / "home"
    shutil.copytree(home, quoted_home, symlinks=True)
    done = hubwatch("publish", "--date", "2025-06-03", env={**env, "HUBWATCH_HOME": str(quoted_home)})
    assert done.returncode == 0, done.stderr
    assert verify_package(quoted_home / "publish" / "2025-06-03") == []


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=5000",
]


def render(url: str, profile: Path) -> tuple[str, str]:
    """The DOM after scripts ran, and the browser's log (console messages included)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (make test installs Debian's chromium)")
        pytest.skip("chromium is not installed")
    done = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout, done.stderr


def console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)]


def test_the_console_check_catches_a_script_error(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><html><body><script>throw new Error('boom')</script></body></html>")
    _dom, log = render(page.as_uri(), tmp_path / "profile")
    assert console_errors(log)


def test_every_page_renders_offline_with_no_console_errors(published, tmp_path):
    site = published[2] / "dashboards"
    pages = sorted(site.glob("*.html"))
    assert len(pages) == 9
    for page in pages:
        dom, log = render(page.as_uri(), tmp_path / "profile")
        assert not console_errors(log), (page.name, console_errors(log))
        assert "SIMULATED DATA" in dom, page.name
        charts = dom.count('class="chart"')
        assert dom.count('class="main-svg"') >= charts, page.name  # every chart drew its SVG
        if page.name != "index.html":
            assert charts >= 1 and dom.count("Download the plotted data (CSV)") == charts


def test_a_hostile_model_name_is_shown_as_text_and_runs_nothing(published, tmp_path):
    dom, log = render((published[2] / "dashboards" / "index.html").as_uri(), tmp_path / "profile")
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom
    assert '<img src="x"' not in dom and "<img src=x" not in dom
    assert not console_errors(log)


def test_plotted_csv_matches_the_chart(published):
    site = published[2] / "dashboards"
    for csv_file in (site / "data").glob("*.csv"):
        header = csv_file.read_text().splitlines()[0]
        assert header == "x,series,value", csv_file.name
