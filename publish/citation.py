"""How a package is cited and on what terms: its licence, its sources, who made it, and the marks
every data file carries so that a file passed on alone still says what it is (and that it is
simulated, when it is).

Pure functions over the manifest and the configuration, which package.py calls at a few places:
the Parquet files' key-value metadata and the CSV sidecars while the files are written, the
`citation` block of the manifest, the licence/sources/contributors of datapackage.json, and
CITATION.cff once the manifest (whose sha256 is the package's citation id) is written.

Configuration (environment; documented in the README):
- HUBWATCH_LICENSE: SPDX id of the licence of hubwatch's derived tables (default CC-BY-4.0);
  HUBWATCH_LICENSE_URL for an id not listed in LICENSES.
- HUBWATCH_CONTRIBUTORS: who made the package, `Name <email>; Other Name`.
- HUBWATCH_HOMEPAGE: where the packages are published (default: the project's homepage).
The hubs' own terms are not hubwatch's to license: each hub is named in `sources` with its terms.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import PackageNotFoundError, metadata
from pathlib import Path
from typing import Any

import orjson
import yaml

from ingest.files import sha256_file, sql_text

DEFAULT_LICENSE = "CC-BY-4.0"
LICENSES = {
    "CC-BY-4.0": ("Creative Commons Attribution 4.0 International", "https://creativecommons.org/licenses/by/4.0/"),
    "CC-BY-SA-4.0": (
        "Creative Commons Attribution-ShareAlike 4.0 International",
        "https://creativecommons.org/licenses/by-sa/4.0/",
    ),
    "CC0-1.0": ("Creative Commons Zero v1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODbL-1.0": ("Open Data Commons Open Database License v1.0", "https://opendatacommons.org/licenses/odbl/1-0/"),
    "PDDL-1.0": (
        "Open Data Commons Public Domain Dedication and License",
        "https://opendatacommons.org/licenses/pddl/1-0/",
    ),
}
HUBS = {
    "civitai": {
        "title": "Civitai public REST API v1 (models, image feed); Civitai's Terms of Service apply to its content: "
        "https://civitai.com/content/tos",
        "path": "https://civitai.com/api/v1",
    },
    "huggingface": {
        "title": "Hugging Face Hub API (model repositories); the Hub's Terms of Service and each repository's own "
        "licence apply: https://huggingface.co/terms-of-service",
        "path": "https://huggingface.co/api/models",
    },
}
SOURCE_HUB = {"civitai_models": "civitai", "civitai_images": "civitai", "hf_models": "huggingface"}
SIMULATED_SOURCE = "fakehub, hubwatch's simulated hub on loopback: SIMULATED DATA, no real hub's content"
KEYWORDS = ["civitai", "hugging face", "deepfake", "nsfw", "model hubs"]


@dataclass(frozen=True)
class CitationConfig:
    license: str = DEFAULT_LICENSE
    license_url: str | None = LICENSES[DEFAULT_LICENSE][1]
    homepage: str | None = None
    contributors: tuple[dict[str, str], ...] = field(default_factory=tuple)

    @classmethod
    def from_env(cls) -> CitationConfig:
        licence = os.environ.get("HUBWATCH_LICENSE", "").strip() or DEFAULT_LICENSE
        url = os.environ.get("HUBWATCH_LICENSE_URL", "").strip() or LICENSES.get(licence, (None, None))[1]
        homepage = os.environ.get("HUBWATCH_HOMEPAGE", "").strip() or project_homepage()
        return cls(licence, url, homepage, parse_contributors(os.environ.get("HUBWATCH_CONTRIBUTORS", "")))


def project_homepage() -> str | None:
    """hubwatch's own homepage (pyproject's [project.urls] Homepage)."""
    try:
        urls = metadata("hubwatch").get_all("Project-URL") or []
    except PackageNotFoundError:
        return None
    return next((u.split(",", 1)[1].strip() for u in urls if u.lower().startswith("homepage,")), None)


def parse_contributors(text: str) -> tuple[dict[str, str], ...]:
    """`Name <email>; Other Name` -> [{title, email?, role}] (Frictionless contributors)."""
    people = []
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        found = re.fullmatch(r"(.*?)\s*<([^<>\s]+@[^<>\s]+)>", entry)
        title, email = (found.group(1), found.group(2)) if found else (entry, None)
        people.append({"title": title, **({"email": email} if email else {}), "role": "author"})
    return tuple(people)


def snapshot_sources(con) -> list[dict[str, Any]]:
    """Which hubs and which imports the warehouse's tables were built from (marts.snapshot_coverage;
    an import's URL is in its params)."""
    rows = con.sql(
        "select source, kind, min(snapshot_date)::varchar, json_extract_string(params, '$.source_url') "
        "from marts.snapshot_coverage group by all order by all"
    ).fetchall()
    return [{"source": s, "kind": k, "snapshot_date": d, "source_url": u} for s, k, d, u in rows]


def sources(read: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Data Package `sources`: each hub the data came from (with its terms), the simulator when
    simulated snapshots were read, and each imported crawl with its URL."""
    hubs = sorted({SOURCE_HUB[r["source"]] for r in read if r["kind"] != "simulated" and r["source"] in SOURCE_HUB})
    found = [dict(HUBS[hub]) for hub in hubs]
    if any(r["kind"] == "simulated" for r in read):
        found.append({"title": SIMULATED_SOURCE})
    for r in read:
        if r["kind"] == "imported":
            imported = {"title": f"Imported third-party crawl: {r['source']} snapshot of {r['snapshot_date']}"}
            found.append(imported | ({"path": r["source_url"]} if r["source_url"] else {}))
    return found


def package_citation(
    day: date, rules_version: str, simulated: bool, read: list[dict[str, Any]], config: CitationConfig
) -> dict[str, Any]:
    """The manifest's `citation` block: everything a citation needs except the manifest's own
    sha256, which CITATION.cff and `hubwatch publish` add."""
    licence = {"name": config.license, **({"path": config.license_url} if config.license_url else {})}
    if config.license in LICENSES:
        licence["title"] = LICENSES[config.license][0]
    return {
        "title": f"hubwatch snapshot package {day.isoformat()}" + (" (SIMULATED DATA)" if simulated else ""),
        "publish_date": day.isoformat(),
        "rules_version": rules_version,
        "simulated": simulated,
        "licenses": [licence],
        "sources": sources(read),
        "contributors": [dict(c) for c in config.contributors],
        **({"homepage": config.homepage} if config.homepage else {}),
    }


def datapackage_fields(citation: dict[str, Any]) -> dict[str, Any]:
    """What datapackage.json takes from the citation block (Frictionless names)."""
    fields = {k: citation[k] for k in ("licenses", "sources", "contributors", "homepage") if citation.get(k)}
    fields["keywords"] = KEYWORDS + (["simulated"] if citation["simulated"] else [])
    return fields


def file_metadata(citation: dict[str, Any], table: str) -> dict[str, str]:
    """What each data file carries about itself (Parquet key-value metadata, CSV sidecar)."""
    return {
        "source": citation["title"] + (f" ({citation['homepage']})" if citation.get("homepage") else ""),
        "table": table,
        "publish_date": citation["publish_date"],
        "rules_version": citation["rules_version"],
        "simulated": "true" if citation["simulated"] else "false",
        "license": ", ".join(licence["name"] for licence in citation["licenses"]),
    }


def kv_metadata_sql(values: dict[str, str]) -> str:
    """DuckDB's COPY … (FORMAT parquet, KV_METADATA {…}) argument, every value quoted."""
    return "{" + ", ".join(f"'{sql_text(k)}': '{sql_text(v)}'" for k, v in values.items()) + "}"


def csv_sidecar(citation: dict[str, Any], table: str) -> dict[str, str]:
    """`data/<table>.csv.meta.json`: a CSV cannot carry metadata, so a one-line file beside it does."""
    return {
        **file_metadata(citation, table),
        "note": "Metadata of the CSV file beside this one (a CSV has no room for it); "
        "the package's manifest.json and CODEBOOK.md describe every column.",
    }


def sidecar_bytes(values: dict[str, str]) -> bytes:
    return orjson.dumps(values, option=orjson.OPT_SORT_KEYS) + b"\n"


def citation_text(citation: dict[str, Any], manifest_sha256: str) -> str:
    """One line to cite the package by: title, rule set, licence, the manifest's sha256, and where."""
    licence = ", ".join(licence["name"] for licence in citation["licenses"])
    where = f" {citation['homepage']}" if citation.get("homepage") else ""
    return (
        f"{citation['title']}, rules {citation['rules_version']}, licence {licence}, "
        f"manifest sha256 {manifest_sha256}.{where}"
    )


def citation_cff(citation: dict[str, Any], manifest_sha256: str, software_version: str) -> str:
    """CITATION.cff (Citation File Format 1.2.0) for the package, identified by its manifest's sha256."""
    authors = [
        {"name": c["title"], **({"email": c["email"]} if c.get("email") else {})} for c in citation["contributors"]
    ] or [{"name": "hubwatch contributors"}]
    content: dict[str, Any] = {
        "cff-version": "1.2.0",
        "message": "If you use this package, cite it as below; its identifier is the SHA-256 of its manifest.json.",
        "type": "dataset",
        "title": citation["title"],
        "version": citation["publish_date"],
        "date-released": date.fromisoformat(citation["publish_date"]),
        "abstract": (
            f"Dated measures of public model-hub metadata (rule set {citation['rules_version']}), built by hubwatch "
            f"{software_version}. Sources: " + "; ".join(s["title"] for s in citation["sources"]) + "."
        ),
        "authors": authors,
        "identifiers": [
            {"type": "other", "value": f"sha256:{manifest_sha256}", "description": "SHA-256 of manifest.json"}
        ],
        "keywords": KEYWORDS + (["simulated"] if citation["simulated"] else []),
    }
    licence = citation["licenses"][0]["name"]
    if licence in LICENSES:  # CFF takes SPDX ids only
        content["license"] = licence
    if citation.get("homepage"):
        content["url"] = citation["homepage"]
    return yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=1000)


def cite(package: Path) -> str:
    """The citation line of a published package folder, from its manifest and that file's sha256."""
    manifest_path = package / "manifest.json"
    manifest = orjson.loads(manifest_path.read_bytes())
    return citation_text(manifest["citation"], sha256_file(manifest_path))
