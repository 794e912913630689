"""The real-person tiers on a warehouse built from a real crawl: how many models each tier flags,
how many only the file-hash tier flags (and of those, how many only through files that are not
weights), and the name tier's precision against hand labels. A measurement, not a test.

    .venv/bin/python -m benchmarks.real_person_tiers --home /tmp/crawl/home \\
        --labels tests/fixtures/real/name_tier_labels_2023-07.csv

The labels (one row per name-tier match of the July 2023 crawl dfanr/CivitaiModelList, each
judged by hand: see tests/fixtures/real/SOURCES.md) are joined to the models the warehouse's name
tier flags; a flagged model without a label is reported, so the sample's coverage is visible.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import duckdb

TIERS = """
select
    count(*) as models,
    count_if(real_person) as real_person,
    count_if(real_person_declared) as declared,
    count_if(real_person_tagged) as tagged,
    count_if(real_person_name_match) as name_match,
    count_if(real_person_hash_match) as hash_match,
    count_if(real_person_hash_match and not (real_person_declared or real_person_tagged or real_person_name_match))
        as hash_only
from marts.models
where platform = 'civitai'
"""
# Hash-only models none of whose files that equal a registered (flagged) file is a weight file
# (Civitai type Model or Pruned Model): flagged only through a VAE, a config or the like.
HASH_ONLY_WITHOUT_WEIGHTS = """
with hash_only as (
    select model_id from marts.models
    where platform = 'civitai' and real_person_hash_match
        and not (real_person_declared or real_person_tagged or real_person_name_match)
),
registry as (select distinct sha256, civitai_model_id from intermediate.int_real_person_file_sightings),
matching as (
    select cast(files.model_id as varchar) as model_id, files.file_type
    from staging.stg_civitai__model_files as files
    inner join registry
        on registry.sha256 = files.sha256 and registry.civitai_model_id <> cast(files.model_id as varchar)
)
select count(*) from hash_only
where model_id not in (select model_id from matching where file_type in ('Model', 'Pruned Model'))
"""


def tier_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    cursor = con.execute(TIERS)
    counts = dict(zip([d[0] for d in cursor.description], cursor.fetchall()[0], strict=True))
    counts["hash_only_without_weight_files"] = con.execute(HASH_ONLY_WITHOUT_WEIGHTS).fetchall()[0][0]
    return counts


def name_tier_precision(con: duckdb.DuckDBPyConnection, labels: Path) -> dict[str, float | int]:
    """Precision of the name tier over the labelled models it flags: the share that depict a real
    person, and the share that depict the very public figure whose name matched."""
    with labels.open(newline="") as handle:
        labelled = {row["model_id"]: row for row in csv.DictReader(handle)}
    flagged = {
        model_id
        for (model_id,) in con.sql(
            "select model_id from marts.models where platform = 'civitai' and real_person_name_match"
        ).fetchall()
    }
    judged = [labelled[m] for m in flagged if m in labelled]
    real = sum(row["real_person"] == "true" for row in judged)
    named = sum(row["named_figure"] == "true" for row in judged)
    return {
        "flagged": len(flagged),
        "labelled": len(judged),
        "unlabelled": len(flagged - set(labelled)),
        "real_person": real,
        "precision_real_person": round(real / len(judged), 4) if judged else float("nan"),
        "named_figure": named,
        "precision_named_figure": round(named / len(judged), 4) if judged else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a HUBWATCH_HOME built from a real crawl")
    parser.add_argument("--labels", type=Path, help="hand labels of name-tier matches (CSV)")
    args = parser.parse_args()
    with duckdb.connect(str(args.home / "warehouse.duckdb"), read_only=True) as con:
        rules = con.execute("select rules_version from marts.build_info").fetchall()[0][0]
        print(f"rules {rules}: {tier_counts(con)}")
        if args.labels:
            print(f"name tier: {name_tier_precision(con, args.labels)}")


if __name__ == "__main__":
    main()
