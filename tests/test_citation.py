"""Citing a package: the default licence and its configuration, sources naming each hub (with its
terms), the simulator and each import, CITATION.cff, and the marks each data file carries."""

from datetime import date

import duckdb
import yaml

from publish.citation import (
    DEFAULT_LICENSE,
    CitationConfig,
    citation_cff,
    citation_text,
    datapackage_fields,
    file_metadata,
    kv_metadata_sql,
    package_citation,
    parse_contributors,
    sources,
)

READ = [
    {"source": "civitai_models", "kind": "imported", "snapshot_date": "2023-07-05", "source_url": "https://x.org/c"},
    {"source": "civitai_models", "kind": "live", "snapshot_date": "2025-06-01", "source_url": None},
    {"source": "hf_models", "kind": "live", "snapshot_date": "2025-06-01", "source_url": None},
    {"source": "civitai_images", "kind": "imported", "snapshot_date": "2024-12-01", "source_url": None},
]
SHA = "ab" * 32


def test_the_default_licence_is_cc_by_and_the_hubs_terms_are_named(monkeypatch):
    for name in ("HUBWATCH_LICENSE", "HUBWATCH_LICENSE_URL", "HUBWATCH_CONTRIBUTORS", "HUBWATCH_HOMEPAGE"):
        monkeypatch.delenv(name, raising=False)
    config = CitationConfig.from_env()
    assert config.license == DEFAULT_LICENSE == "CC-BY-4.0"
    assert config.homepage == "https://github.com/hubwatch/hubwatch"  # pyproject's Homepage
    cited = package_citation(date(2025, 6, 1), "v1", False, READ, config)
    assert cited["licenses"] == [
        {
            "name": "CC-BY-4.0",
            "path": "https://creativecommons.org/licenses/by/4.0/",
            "title": "Creative Commons Attribution 4.0 International",
        }
    ]
    titles = [s["title"] for s in cited["sources"]]
    assert "https://civitai.com/content/tos" in titles[0] and "https://huggingface.co/terms-of-service" in titles[1]


def test_sources_name_each_hub_each_import_and_the_simulator():
    found = sources(
        READ + [{"source": "hf_models", "kind": "simulated", "snapshot_date": "2024-01-01", "source_url": None}]
    )
    assert [s.get("path") for s in found] == [
        "https://civitai.com/api/v1",
        "https://huggingface.co/api/models",
        None,  # the simulator
        "https://x.org/c",
        None,  # an import given no URL is still named
    ]
    assert "SIMULATED" in found[2]["title"]
    assert found[3]["title"] == "Imported third-party crawl: civitai_models snapshot of 2023-07-05"


def test_a_simulated_only_package_names_no_real_hub():
    found = sources(
        [{"source": "civitai_models", "kind": "simulated", "snapshot_date": "2024-01-01", "source_url": None}]
    )
    assert len(found) == 1 and "SIMULATED DATA" in found[0]["title"]


def test_licence_contributors_and_homepage_come_from_configuration(monkeypatch):
    monkeypatch.setenv("HUBWATCH_LICENSE", "CC0-1.0")
    monkeypatch.setenv("HUBWATCH_CONTRIBUTORS", "Ada Lovelace <ada@example.org>; The Lab")
    monkeypatch.setenv("HUBWATCH_HOMEPAGE", "https://data.example.org/hubwatch")
    cited = package_citation(date(2025, 6, 1), "v1", True, READ, CitationConfig.from_env())
    fields = datapackage_fields(cited)
    assert fields["licenses"][0]["name"] == "CC0-1.0"
    assert fields["licenses"][0]["path"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert fields["contributors"] == [
        {"title": "Ada Lovelace", "email": "ada@example.org", "role": "author"},
        {"title": "The Lab", "role": "author"},
    ]
    assert fields["homepage"] == "https://data.example.org/hubwatch"
    assert "simulated" in fields["keywords"]


def test_parse_contributors_keeps_odd_entries_whole():
    assert parse_contributors(" ; Jane Doe <not an email> ;") == (
        {"title": "Jane Doe <not an email>", "role": "author"},
    )


def test_citation_cff_is_yaml_with_the_manifest_sha256_as_identifier():
    cited = package_citation(date(2025, 6, 1), "v1", True, READ, CitationConfig(homepage="https://h.example"))
    cff = yaml.safe_load(citation_cff(cited, SHA, "0.1.0"))
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "dataset"
    assert cff["title"] == "hubwatch snapshot package 2025-06-01 (SIMULATED DATA)"
    assert cff["date-released"] == date(2025, 6, 1) and cff["version"] == "2025-06-01"
    assert cff["identifiers"] == [
        {"type": "other", "value": f"sha256:{SHA}", "description": "SHA-256 of manifest.json"}
    ]
    assert cff["license"] == "CC-BY-4.0" and cff["url"] == "https://h.example"
    assert cff["authors"] == [{"name": "hubwatch contributors"}]
    line = citation_text(cited, SHA)
    assert line.startswith("hubwatch snapshot package 2025-06-01 (SIMULATED DATA), rules v1, licence CC-BY-4.0")
    assert f"manifest sha256 {SHA}" in line


def test_kv_metadata_survives_quotes_and_lands_in_the_parquet_file(tmp_path):
    cited = package_citation(date(2025, 6, 1), "v1 'quoted'", True, READ, CitationConfig())
    marks = file_metadata(cited, "models")
    out = tmp_path / "t.parquet"
    duckdb.sql(f"copy (select 1 as a) to '{out}' (format parquet, kv_metadata {kv_metadata_sql(marks)})")
    found = {
        k.decode(): v.decode()
        for _f, k, v in duckdb.sql(f"select * from parquet_kv_metadata('{out}')").fetchall()  # noqa: S608 (a test's own path and values)
    }
    assert found == marks
    assert found["simulated"] == "true" and found["rules_version"] == "v1 'quoted'" and found["table"] == "models"
