"""Prompt vocabulary: the term families of rule set v2 and how a prompt is prepared for them.

A prompt is matched in the warehouse, never published: `normalise_prompt` is what the normaliser
stores (lower case, underscores as spaces, whitespace collapsed: `score_9` and `Score 9` are one
term), and each seed row's `pattern` is a regular expression over that text, bounded so that a
term matches only as a whole word or phrase. Families:

- booru_vocabulary, quality_tags: hubwatch's own short lists (below), after Danbooru's tag
  conventions and the quality/score tags of Pony- and Illustrious-era prompts that Wagner &
  Cetinic's subculture finding rests on;
- civitai_nsfw, civitai_minor_nouns, civitai_minor_adjectives, civitai_minor_partial_nouns,
  civitai_minor_negative: Civitai's own regular expressions (ingest/lexicons/civitai, Apache-2.0,
  provenance in its SOURCES.md), kept as written except where RE2 (DuckDB) and Java (Spark) lack a
  construct: a lookahead is dropped (the pattern then matches more) and the row says so.

`python -m ingest.prompt_terms` writes dbt/seeds/rules_prompt_terms.csv (one row per term, with its
source) and the macro dbt/macros/prompt_family_patterns.sql (one alternation per family, what dbt
matches, as constants); a test checks both are what this module writes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import orjson

LEXICONS = Path(__file__).parent / "lexicons" / "civitai"
SEEDS = Path(__file__).parent.parent / "dbt" / "seeds"
SEED = SEEDS / "rules_prompt_terms.csv"
FAMILY_MACRO = Path(__file__).parent.parent / "dbt" / "macros" / "prompt_family_patterns.sql"
CIVITAI_SOURCE = "civitai/civitai@ebed661 src/utils/metadata/lists (Apache-2.0)"
HUBWATCH_SOURCE = "hubwatch rule set v2"

BOORU_VOCABULARY = (
    "1girl", "2girls", "3girls", "multiple girls", "1boy", "2boys", "multiple boys", "solo", "solo focus",
    "looking at viewer", "long hair", "short hair", "blush", "smile", "open mouth", "upper body",
    "full body", "cowboy shot", "simple background", "white background",
)  # fmt: skip
QUALITY_TAGS = (
    "masterpiece", "best quality", "high quality", "amazing quality", "very aesthetic", "absurdres",
    "highres", "ultra detailed", "8k", "score 9", "score 8 up", "score 7 up", "score 6 up",
    "score 5 up", "score 4 up", "source anime", "source pony", "rating explicit", "rating safe",
    "rating questionable", "worst quality", "low quality", "normal quality",
)  # fmt: skip
YOUNG_FAMILIES = {
    "nouns": "civitai_minor_nouns",
    "adjectives": "civitai_minor_adjectives",
    "partialNouns": "civitai_minor_partial_nouns",
    "negativeNouns": "civitai_minor_negative",
}
_SPACES = re.compile(r"\s+")
_LOOKAHEAD = re.compile(r"\(\?[!=][^)]*\)")


def normalise_prompt(text: object) -> str | None:
    """The text a prompt is matched as: lower case, `_` as a space, whitespace collapsed."""
    if not isinstance(text, str) or not text.strip():
        return None
    return _SPACES.sub(" ", text.lower().replace("_", " ")).strip()


def bounded(fragment: str) -> str:
    """A pattern matching the fragment only between non-alphanumeric characters (or the ends)."""
    return f"(^|[^a-z0-9])({fragment})($|[^a-z0-9])"


def literal(term: str) -> str:
    return bounded(re.escape(normalise_prompt(term) or term).replace(r"\ ", " "))


def civitai_pattern(fragment: str) -> tuple[str, str]:
    """Civitai's fragment as a portable pattern, and a note on what was changed (if anything)."""
    text = fragment.lower().replace("_", " ")
    note = ""
    if _LOOKAHEAD.search(text):
        text, note = _LOOKAHEAD.sub("", text), "lookahead dropped (RE2 and Java differ): matches more"
    return bounded(text), note


def seed_rows() -> list[dict[str, str]]:
    rows = [
        {"family": "booru_vocabulary", "term": t, "pattern": literal(t), "source": HUBWATCH_SOURCE, "note": ""}
        for t in BOORU_VOCABULARY
    ]
    rows += [
        {"family": "quality_tags", "term": t, "pattern": literal(t), "source": HUBWATCH_SOURCE, "note": ""}
        for t in QUALITY_TAGS
    ]
    for word in orjson.loads((LEXICONS / "words-nsfw.json").read_bytes()):
        pattern, note = civitai_pattern(word)
        rows.append(
            {"family": "civitai_nsfw", "term": word, "pattern": pattern, "source": CIVITAI_SOURCE, "note": note}
        )
    young = orjson.loads((LEXICONS / "words-young.json").read_bytes())
    for key, family in YOUNG_FAMILIES.items():
        for word in young[key]:
            pattern, note = civitai_pattern(word)
            rows.append({"family": family, "term": word, "pattern": pattern, "source": CIVITAI_SOURCE, "note": note})
    return rows


def seed_text() -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, ["family", "term", "pattern", "source", "note"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(seed_rows())
    return out.getvalue()


def family_rows(rows: list[dict[str, str]] | None = None) -> list[dict[str, str]]:
    """One pattern per family, the alternation of its terms' fragments, bounded once: what the
    warehouse matches (one regular expression per prompt and family instead of one per term; the
    same matches, since a bounded alternation matches where any bounded alternative does)."""
    fragments: dict[str, list[str]] = {}
    for row in rows if rows is not None else seed_rows():
        inner = row["pattern"].removeprefix("(^|[^a-z0-9])(").removesuffix(")($|[^a-z0-9])")
        fragments.setdefault(row["family"], []).append(inner)
    return [{"family": family, "pattern": bounded("|".join(parts))} for family, parts in fragments.items()]


def family_macro_text() -> str:
    """dbt/macros/prompt_family_patterns.sql: the per-family patterns as a macro, so that each is a
    constant in the SQL (a pattern read from a table is compiled again for every row: ~12 ms each)."""
    entries = ",\n".join(f"        ({json.dumps(r['family'])}, {json.dumps(r['pattern'])})" for r in family_rows())
    return (
        "{#\n  Written by `python -m ingest.prompt_terms` from dbt/seeds/rules_prompt_terms.csv: do not edit.\n"
        "  One regular expression per prompt term family (the alternation of its terms' patterns, bounded\n"
        "  once); int_image_prompt_families matches each as a constant.\n#}\n"
        "{% macro prompt_family_patterns() %}\n    {{ return([\n" + entries + "\n    ]) }}\n{% endmacro %}\n"
    )


def families_of(prompt: str | None, rows: list[dict[str, str]]) -> set[str]:
    """The families whose patterns match a normalised prompt (what dbt computes, in Python)."""
    if not prompt:
        return set()
    return {r["family"] for r in rows if re.search(r["pattern"], prompt)}


if __name__ == "__main__":  # python -m ingest.prompt_terms: (re)write both seeds
    SEED.write_text(seed_text())
    FAMILY_MACRO.write_text(family_macro_text())
    sys.stdout.write(f"wrote {SEED.name} and {FAMILY_MACRO.name}\n")
