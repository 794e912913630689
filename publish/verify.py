"""`hubwatch verify PACKAGE`: is this package what it says it is?

- every file is listed in SHA256SUMS with its sha256 (and nothing else is in the folder);
- manifest.json lists every file but itself, SHA256SUMS, CITATION.cff and citation.js, with the
  same sha256; CITATION.cff and citation.js name the manifest's own sha256;
- datapackage.json is a valid Frictionless Data Package (its CSVs' hashes, sizes and types);
- where raw/ is at hand, each input snapshot the manifest names is on disk with the same manifest
  sha256 (or was withdrawn since, with that sha256 in its withdrawal record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import frictionless
import orjson

from ingest.files import sha256_file
from ingest.home import snapshot_path, withdrawal_files

SEALS = ("manifest.json", "CITATION.cff", "citation.js", "SHA256SUMS")


class VerifyError(RuntimeError):
    """The package does not verify; the message says where, in one line."""


@dataclass(frozen=True)
class Verified:
    files: int
    manifest_sha256: str
    inputs_checked: int | None  # None: no raw/ at hand
    inputs_withdrawn: int

    def line(self, package: Path) -> str:
        inputs = (
            "inputs not checked (no raw/ at hand)"
            if self.inputs_checked is None
            else f"{self.inputs_checked} input snapshots match raw/"
            + (f" ({self.inputs_withdrawn} withdrawn since, as recorded)" if self.inputs_withdrawn else "")
        )
        return (
            f"verified {package}: {self.files} files match SHA256SUMS and manifest.json "
            f"(manifest sha256 {self.manifest_sha256}); datapackage valid; {inputs}"
        )


def verify(package: Path, home: Path | None = None) -> Verified:
    """Every check above; VerifyError at the first that fails. home: where raw/ is (None: none)."""
    manifest, manifest_sha256, files = check_files(package)
    check_datapackage(package)
    checked, withdrawn = (None, 0) if home is None else check_inputs(manifest, home)
    return Verified(files, manifest_sha256, checked, withdrawn)


def check_files(package: Path) -> tuple[dict[str, Any], str, int]:
    """SHA256SUMS and manifest.json against the files; the citation files against the manifest."""
    if not package.is_dir():
        raise VerifyError("not a folder")
    for name in ("manifest.json", "SHA256SUMS"):
        if not (package / name).is_file():
            raise VerifyError(f"no {name}: not a complete hubwatch package")
    on_disk = sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file() or p.is_symlink())
    listed = parse_sums((package / "SHA256SUMS").read_text())
    unlisted = [n for n in on_disk if n not in listed and n != "SHA256SUMS"]
    if unlisted:
        raise VerifyError(f"{unlisted[0]} is in the package but not in SHA256SUMS ({len(unlisted)} such files)")
    for name, sha in listed.items():
        target = package / name
        if not target.is_file():
            raise VerifyError(f"{name} is listed in SHA256SUMS but missing")
        if sha256_file(target) != sha:
            raise VerifyError(f"{name} does not match its sha256 in SHA256SUMS (altered or corrupt)")
    manifest = orjson.loads((package / "manifest.json").read_bytes())
    covered = {n for n in listed if n not in SEALS}
    if set(manifest.get("files", {})) != covered:
        extra = sorted(covered ^ set(manifest.get("files", {})))
        raise VerifyError(f"manifest.json and SHA256SUMS disagree on which files the package holds, e.g. {extra[0]}")
    for name, entry in manifest["files"].items():
        if entry["sha256"] != listed[name]:
            raise VerifyError(f"{name}: manifest.json and SHA256SUMS give different sha256")
    manifest_sha256 = listed["manifest.json"]
    for name in ("CITATION.cff", "citation.js"):
        if name not in listed:
            raise VerifyError(f"no {name} (a package written before citation files)")
        if manifest_sha256 not in (package / name).read_text():
            raise VerifyError(f"{name} does not name the sha256 of this manifest.json")
    return manifest, manifest_sha256, len(listed) + 1


def parse_sums(text: str) -> dict[str, str]:
    """`sha256sum` lines ('<hex>  <name>') as name -> sha256."""
    sums = {}
    for number, line in enumerate(text.splitlines(), start=1):
        sha, sep, name = line.partition("  ")
        if not sep or len(sha) != 64 or not name:
            raise VerifyError(f"SHA256SUMS line {number} is not '<sha256>  <file>'")
        sums[name.removeprefix("*")] = sha.lower()
    return sums


def check_datapackage(package: Path) -> None:
    report = frictionless.validate(str(package / "datapackage.json"))
    if not report.valid:
        errors = report.flatten(["title", "note"])
        first = ": ".join(str(part) for part in errors[0]) if errors else "invalid"
        raise VerifyError(f"datapackage.json does not validate ({len(errors)} errors), first: {first}")


def check_inputs(manifest: dict[str, Any], home: Path) -> tuple[int, int]:
    """Each input snapshot named by the manifest against raw/ (or its withdrawal record)."""
    withdrawn = {}
    for path in withdrawal_files(home):
        record = orjson.loads(path.read_bytes())
        withdrawn[(record.get("source"), record.get("snapshot_date"), record.get("manifest_sha256"))] = record
    inputs = manifest.get("inputs")
    if inputs is None:
        raise VerifyError("manifest.json names no input snapshots (published before hubwatch recorded them)")
    gone = 0
    for item in inputs:
        source, day, sha = item["source"], item["snapshot_date"], item["manifest_sha256"]
        raw_manifest = snapshot_path(home, source, date.fromisoformat(day)) / "manifest.json"
        if raw_manifest.is_file() and sha256_file(raw_manifest) == sha:
            continue
        if (source, day, sha) in withdrawn:
            gone += 1
            continue
        state = "differs" if raw_manifest.is_file() else "is not in raw/ (nor withdrawn with that sha256)"
        raise VerifyError(f"input snapshot {source} {day}: its manifest {state} under {home}")
    return len(inputs), gone


def raw_home_of(package: Path, fallback: Path | None) -> Path | None:
    """Where raw/ is for a package: its own home (publish/<date> -> the home) or the fallback,
    whichever holds raw/; None when neither does."""
    for home in (package.resolve().parent.parent, fallback):
        if home is not None and (home / "raw").is_dir():
            return home
    return None
