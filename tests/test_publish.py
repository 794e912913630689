"""The published package and the dashboards: checksums, Frictionless, refusal to overwrite,
privacy (no creator or depicted person's name), and the site in a real headless browser."""

import hashlib
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import frictionless
import pytest
import yaml

from dashboards.pages import PAGES
from ingest.fakehub import FakeHub
from ingest.fakehub.world import FEMALE_NAMES, MALE_NAMES
from ingest.files import sql_text
from publish.package import PARQUET_ONLY
from publish.verify import verify
from tests.browser import check_site
from tests.conftest import HOSTILE_NAME, HUBWATCH, copy_home, hub_env, hubwatch, hubwatch_here

pytestmark = pytest.mark.slow
XSS = HOSTILE_NAME


@pytest.fixture(scope="module")
def published(tmp_path_factory, two_days_built, small_world):
    """Snapshots of a world with a hostile model name, built (in this process, as `hubwatch build`
    runs it: conftest.two_days_built, which test_integrity shares), then published and rendered by
    the `hubwatch publish` command in a copy of that home (its own process: the other publishes of
    this module run the command in this process, conftest.hubwatch_here)."""
    home = copy_home(two_days_built[0], tmp_path_factory.mktemp("publish") / "home")
    with FakeHub(small_world) as hub:  # no hub is read: the settings a user's shell would hold
        env = hub_env(hub, home)
        done = hubwatch("publish", "--date", "2025-06-01", env=env)
        assert done.returncode == 0, done.stderr
    return home, env, home / "publish" / "2025-06-01"


def test_manifest_checksums_match_and_latest_points_to_it(published):
    home, _env, package = published
    assert verify(package, home).inputs_checked == 6
    assert (home / "publish" / "latest").resolve() == package.resolve()
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS", "--strict"], cwd=package, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr


def test_verify_takes_a_package_by_its_date_or_latest_as_sql_and_diff_do(published):
    """`hubwatch verify --home H latest` (or a date published there) checks that package, as
    `hubwatch sql --package` and `hubwatch diff` name one; a date never published is one line."""
    home, env, package = published
    for name in ("latest", "2025-06-01"):
        done = hubwatch_here("verify", "--home", str(home), name, env=env)
        assert done.returncode == 0, (name, done.stderr)
        assert done.stdout.startswith(f"verified {package}: ") and "files match SHA256SUMS" in done.stdout
    done = hubwatch_here("verify", "--home", str(home), "2099-01-01", env=env)
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, done.stderr
    assert str(home / "publish" / "2099-01-01") in done.stderr


def test_the_site_is_inside_the_checksums_and_the_seals_follow_the_manifest(published):
    """manifest.json covers every file but itself, SHA256SUMS, CITATION.cff and citation.js (the site
    included); those two hold the manifest's sha256; SHA256SUMS lists every file but itself."""
    package = published[2]
    manifest = json.loads((package / "manifest.json").read_text())
    on_disk = {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()}
    seals = {"manifest.json", "SHA256SUMS", "CITATION.cff", "citation.js"}
    assert set(manifest["files"]) == on_disk - seals
    assert {n for n in on_disk if n.startswith("dashboards/")} >= {"dashboards/index.html", "dashboards/nsfw.html"}
    listed = {line.split("  ", 1)[1] for line in (package / "SHA256SUMS").read_text().splitlines()}
    assert listed == on_disk - {"SHA256SUMS"}
    manifest_sha = hashlib.sha256((package / "manifest.json").read_bytes()).hexdigest()
    assert f"sha256:{manifest_sha}" in (package / "CITATION.cff").read_text()
    cite = json.loads((package / "citation.js").read_text().removeprefix("window.hubwatchCitation = ").rstrip(";\n"))
    assert (
        cite["manifest_sha256"] == manifest_sha and cite["simulated"] is True and cite["publish_date"] == "2025-06-01"
    )


def test_datapackage_is_valid_frictionless(published):
    report = frictionless.validate(str(published[2] / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:5]


def test_publishing_the_same_date_again_refuses_without_force(published):
    _home, env, package = published
    before = (package / "manifest.json").read_bytes()
    again = hubwatch_here("publish", "--date", "2025-06-01", env=env)  # the process: test_integrity's refusals
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
            parquet = f"read_parquet('{sql_text(str(package / 'data' / table))}.parquet')"
            for a, b in ((table, parquet), (parquet, table)):
                both = f"select count(*) from (from {a} except all from {b})"  # noqa: S608 (catalog names, quoted path)
                assert con.sql(both).fetchall() == [(0,)], table
            assert con.sql(f"select count(*) from {table}").fetchall() == [(meta["rows"],)]  # noqa: S608 (a catalog name)
            csv = package / "data" / f"{table}.csv"
            assert csv.exists() == (table not in PARQUET_ONLY) == (f"data/{table}.csv" in meta["files"]), table
            if csv.exists():
                con.execute(f"copy {table} to '{sql_text(str(tmp_path / table))}.csv' (format csv, header true)")
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
            texts.append(str(con.sql(f"select * from {table}").fetchall()))  # noqa: S608 (a catalog name)
    for parquet in package.glob("data/*.parquet"):
        texts.append(str(duckdb.execute("select * from read_parquet(?)", [str(parquet)]).fetchall()))
    return "\n".join(texts).lower()


def test_the_duckdb_file_describes_every_table_and_column_as_the_manifest_does(published):
    """dbt's descriptions reach hubwatch.duckdb as comments on every table and column (written in
    one statement per table, in the transaction that creates the tables), the same text as the
    manifest's schema, CODEBOOK.md and datapackage.json."""
    package = published[2]
    manifest = json.loads((package / "manifest.json").read_text())
    with duckdb.connect(str(package / "hubwatch.duckdb"), read_only=True) as con:
        tables = dict(con.sql("select table_name, comment from duckdb_tables()").fetchall())
        columns = {
            (table, column): comment
            for table, column, comment in con.sql(
                "select table_name, column_name, comment from duckdb_columns()"
            ).fetchall()
        }
    assert set(tables) == set(manifest["tables"])
    for table, meta in manifest["tables"].items():
        assert meta["description"] and tables[table] == meta["description"], table
        for column in meta["schema"]:
            assert column["description"] and columns[(table, column["name"])] == column["description"], (
                table,
                column["name"],
            )


def test_no_creator_or_depicted_persons_name_by_default(published, small_world):
    text = every_string(published[2])
    creators = {m.creator for m in small_world.models}
    assert not [c for c in creators if c.lower() in text]
    assert not [n for n in FEMALE_NAMES + MALE_NAMES if n in text]
    assert "redacted:" in text  # real-person Hugging Face repos are there, hashed


def test_creators_reach_the_package_only_as_salted_hashes(published, small_world):
    """The per-creator tables are published, keyed by a 64-hex salted hash that is no name's
    unsalted hash; the salt itself is in no package file."""
    home, _env, package = published
    with duckdb.connect(str(package / "hubwatch.duckdb"), read_only=True) as con:
        hashes = {
            h
            for (h,) in con.sql(
                "select creator_hash from creators union select creator_hash from creator_monthly"
            ).fetchall()
        }
    assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)
    creators = {m.creator for m in small_world.models}
    assert not hashes & {hashlib.sha256(c.encode()).hexdigest() for c in creators}
    salt = (home / "secrets" / "creator_salt").read_text().strip().encode()
    assert not [p for p in package.rglob("*") if p.is_file() and salt in p.read_bytes()]


def test_the_package_holds_monthly_coverage_and_the_rules_changelog(published):
    """The population the monthly tables count, and what changed between rule sets: as tables,
    and the changelog in CODEBOOK.md too."""
    package = published[2]
    manifest = json.loads((package / "manifest.json").read_text())
    assert manifest["rules_version"] == "v3"
    assert manifest["tables"]["monthly_coverage"]["rows"] > 0
    with duckdb.connect(str(package / "hubwatch.duckdb"), read_only=True) as con:
        versions = [v for (v,) in con.sql("select distinct rules_version from rules_changelog order by 1").fetchall()]
    assert versions == ["v1", "v2", "v3"]
    codebook = (package / "CODEBOOK.md").read_text()
    changelog = codebook.split("## Rules changelog", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in changelog.splitlines() if line.startswith("| v")]
    assert len(rows) == manifest["tables"]["rules_changelog"]["rows"] and any("file-hash tier" in r for r in rows)
    assert "## monthly_coverage" in codebook and "## rules_changelog" in codebook


@pytest.fixture(scope="module")
def configured_publish(published, tmp_path_factory):
    """`hubwatch publish --date 2025-05-30 --include-names` (in this process, conftest.hubwatch_here)
    in a copy of the published home under a folder named o'brien, with a citation configured
    (contributors, homepage): one publish for the test of the quoted path, the test of the
    configuration and the test of --include-names (the default package, without names, is
    `published`). Returns the home, the configuration and the command's CompletedProcess."""
    home, env, _package = published
    copied = tmp_path_factory.mktemp("configured") / "o'brien" / "home"
    shutil.copytree(home, copied, symlinks=True)
    config = {
        "HUBWATCH_HOME": str(copied),
        "HUBWATCH_CONTRIBUTORS": "Ada Lovelace <ada@example.org>",
        "HUBWATCH_HOMEPAGE": "https://data.example.org/hubwatch",
    }
    done = hubwatch_here("publish", "--date", "2025-05-30", "--include-names", env={**env, **config})
    return copied, config, done


def test_a_home_whose_path_holds_a_quote_publishes(configured_publish):
    quoted_home, _config, done = configured_publish
    assert "'" in str(quoted_home)
    assert done.returncode == 0, done.stderr
    assert verify(quoted_home / "publish" / "2025-05-30").files > 0


def test_include_names_keeps_them(configured_publish):
    home, _config, done = configured_publish  # published with --include-names
    assert done.returncode == 0, done.stderr
    assert [n for n in FEMALE_NAMES + MALE_NAMES if n in every_string(home / "publish" / "2025-05-30")]


def test_the_published_site_passes_every_browser_check(published):
    """No console error, every chart drawn, each CSV equal to its chart, stacked totals equal to their
    tables, partial months marked, hub text inert (tests/browser.py), on a package from a real crawl."""
    visits = check_site(published[2] / "dashboards")
    assert set(visits) == {name for name, _title in PAGES}  # every page of the site
    index = visits["index.html"]
    assert XSS in index.text  # the hostile model name is shown as text, and ran nothing
    assert not index.alerts and index.images == 0
    assert (published[2] / "data" / "policy_events.parquet").exists()


def parquet_marks(path: Path) -> dict[str, str]:
    rows = duckdb.sql(f"select key, value from parquet_kv_metadata('{path}')").fetchall()  # noqa: S608
    return {k.decode(): v.decode() for k, v in rows}


def test_every_data_file_keeps_its_marks_when_passed_on_alone(published):
    """Parquet files carry date, rule set, simulated flag and source in their metadata; each CSV
    has a one-line sidecar saying the same."""
    package = published[2]
    manifest = json.loads((package / "manifest.json").read_text())
    for table, meta in manifest["tables"].items():
        marks = parquet_marks(package / "data" / f"{table}.parquet")
        assert marks["table"] == table and marks["publish_date"] == "2025-06-01", table
        assert marks["simulated"] == "true" and marks["rules_version"] == manifest["rules_version"]
        assert marks["source"].startswith("hubwatch snapshot package 2025-06-01 (SIMULATED DATA)")
        assert marks["license"] == "CC-BY-4.0"
        sidecar = package / "data" / f"{table}.csv.meta.json"
        assert sidecar.exists() == (f"data/{table}.csv" in meta["files"]), table
        if sidecar.exists():
            assert len(sidecar.read_text().splitlines()) == 1
            assert {k: v for k, v in json.loads(sidecar.read_text()).items() if k != "note"} == marks
            assert f"data/{table}.csv.meta.json" in manifest["files"]


def test_the_codebook_says_which_snapshots_are_simulated_and_its_citation_says_simulated(published):
    """A journalist reading CODEBOOK.md (or copying its citation line) learns exactly what the site's
    banner says: every snapshot of this package is simulated (not "some"), and the title to cite
    carries "(SIMULATED DATA)", as the manifest, datapackage.json and CITATION.cff do."""
    package = published[2]
    manifest = json.loads((package / "manifest.json").read_text())
    codebook = (package / "CODEBOOK.md").read_text()
    with duckdb.connect(str(package / "hubwatch.duckdb"), read_only=True) as con:
        [(n, kinds)] = con.sql("select count(*), list(distinct kind) from snapshot_coverage").fetchall()
    assert kinds == ["simulated"] and n > 1
    assert manifest["simulated_snapshots"].startswith(f"all {n} snapshots (")
    assert f"**SIMULATED DATA**: {manifest['simulated_snapshots']}." in codebook
    assert "some snapshots" not in codebook
    assert manifest["title"] == "hubwatch snapshot package 2025-06-01 (SIMULATED DATA)"
    assert "Cite as: hubwatch snapshot package 2025-06-01 (SIMULATED DATA) (rules v3)" in codebook
    assert json.loads((package / "datapackage.json").read_text())["title"] == manifest["title"]
    assert html.escape(manifest["simulated_snapshots"]) in (package / "dashboards" / "index.html").read_text()
    # a Hugging Face id names its owner: the codebook says so instead of claiming every creator is hashed
    assert "Hugging Face model's id is its public address" in codebook


def test_the_package_names_its_licence_sources_and_citation(published):
    package = published[2]
    manifest = json.loads((package / "manifest.json").read_text())
    datapackage = json.loads((package / "datapackage.json").read_text())
    assert datapackage["licenses"][0]["name"] == "CC-BY-4.0"
    assert datapackage["licenses"] == manifest["citation"]["licenses"]
    assert datapackage["sources"] == manifest["citation"]["sources"]
    assert [s for s in datapackage["sources"] if "SIMULATED DATA" in s["title"]]  # fakehub, not a real hub
    assert datapackage["homepage"] == "https://github.com/hubwatch/hubwatch"
    done = subprocess.run(
        [str(Path(HUBWATCH).with_name("frictionless")), "validate", "datapackage.json"],
        cwd=package,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    cff = yaml.safe_load((package / "CITATION.cff").read_text())
    manifest_sha256 = hashlib.sha256((package / "manifest.json").read_bytes()).hexdigest()
    assert cff["identifiers"][0]["value"] == f"sha256:{manifest_sha256}"
    assert cff["version"] == "2025-06-01" and cff["license"] == "CC-BY-4.0"
    listed = {line.split("  ", 1)[1] for line in (package / "SHA256SUMS").read_text().splitlines()}
    assert {"manifest.json", "CITATION.cff", "datapackage.json"} <= listed and "SHA256SUMS" not in listed


def test_build_info_names_the_version_hubwatch_reports(published):
    _home, env, package = published
    version = hubwatch_here("--version", env=env).stdout.split()[-1]
    with duckdb.connect(str(package / "hubwatch.duckdb"), read_only=True) as con:
        assert con.sql("select hubwatch_version from build_info").fetchall() == [(version,)]
    assert version != "unknown"


def test_publish_prints_the_citation_from_configuration(configured_publish):
    home, _config, done = configured_publish
    assert done.returncode == 0, done.stderr
    package = home / "publish" / "2025-05-30"
    manifest_sha256 = hashlib.sha256((package / "manifest.json").read_bytes()).hexdigest()
    cite = [line for line in done.stderr.splitlines() if line.startswith("publish: cite as: ")]
    assert cite == [
        "publish: cite as: hubwatch snapshot package 2025-05-30 (SIMULATED DATA), rules "
        f"{json.loads((package / 'manifest.json').read_text())['rules_version']}, licence CC-BY-4.0, "
        f"manifest sha256 {manifest_sha256}. https://data.example.org/hubwatch"
    ]
    datapackage = json.loads((package / "datapackage.json").read_text())
    assert datapackage["contributors"] == [{"title": "Ada Lovelace", "email": "ada@example.org", "role": "author"}]
    assert yaml.safe_load((package / "CITATION.cff").read_text())["authors"] == [
        {"name": "Ada Lovelace", "email": "ada@example.org"}
    ]
