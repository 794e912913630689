"""The pages beside the charts: Overview, Policy timeline, Methodology, Coverage, and the small HTML
helpers every page uses. All text from a package is escaped; only http(s) sources become links."""

from __future__ import annotations

import html
import re
from urllib.parse import urlparse

import polars as pl

from dashboards import series as s
from dashboards.charts import min_n_note, undated_note
from dashboards.queries import SOURCE_OF, Package

PAGES = (
    ("index.html", "Overview"),
    ("nsfw.html", "NSFW share"),
    ("real-person.html", "Real-person models"),
    ("subcultures.html", "Subcultures and tags"),
    ("base-models.html", "Base models"),
    ("lifecycle.html", "Lifecycle and takedowns"),
    ("reuploads.html", "Cross-platform re-uploads"),
    ("images-made-with.html", "What images are made with, and their prompts"),
    ("coverage.html", "Coverage"),
    ("policy.html", "Policy timeline"),
    ("methodology.html", "Methodology"),
    ("studies.html", "Studies"),
)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


CODE_SPAN = re.compile(r"`([^`\n]+)`")


def esc_prose(text: object) -> str:
    """Prose written in Markdown (dbt's descriptions, the charts' definitions): escaped, its `code`
    spans shown as code instead of with their backticks (what they hold is escaped too)."""
    return CODE_SPAN.sub(r"<code>\1</code>", esc(text))


def safe_url(url: object) -> str | None:
    """Only http(s) links from data become links."""
    text = str(url or "")
    return text if urlparse(text).scheme in ("http", "https") else None


def short_url(url: str, keep: int = 38) -> str:
    """host/path, cut to `keep` characters: the full address is the link itself."""
    parsed = urlparse(url)
    text = (parsed.netloc.removeprefix("www.") + parsed.path).rstrip("/")
    return text if len(text) <= keep else text[: keep - 1] + "…"


def table_html(frame: pl.DataFrame, headers: dict[str, str] | None = None, limit: int | None = None) -> str:
    headers = headers or {}
    shown = frame.head(limit) if limit else frame
    head = "".join(f"<th>{esc(headers.get(c, c))}</th>" for c in shown.columns)
    body = []
    for row in shown.iter_rows():
        cells = []
        for value in row:
            if value is None:
                cells.append("<td></td>")
            elif isinstance(value, bool):
                cells.append(f"<td>{'yes' if value else ''}</td>")
            elif isinstance(value, int):
                cells.append(f'<td class="num">{value:,}</td>')
            elif isinstance(value, float):
                cells.append(f'<td class="num">{value:.4g}</td>')
            else:
                cells.append(f"<td>{esc(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class='note'>First {limit} of {frame.height} rows.</p>" if limit and frame.height > limit else ""
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


PAGE_TEXT = {
    "studies.html": (
        "<p>Differences are expected: Civiverse counted images still online when it crawled (late 2024), with "
        "the API's boolean (PG-13 and above); hubwatch counts what its own snapshots saw, so deletions and the "
        "2025 real-person exclusion lower or shift its counts. The Wagner &amp; Cetinic (40M images, 230k models) "
        "and Hawkins et al. (about 35,000 deepfake model variants, about 15M downloads, 96% women) figures are "
        "headline numbers; their monthly series are not published.</p>"
    ),
}


def headline_cards(p: Package) -> list[tuple[str, str, str]]:
    """(value, what it is, its n) from the last complete month only; never a partial one."""
    cards = []
    monthly = p.table("nsfw_share_monthly")
    for entity in ("model", "image"):
        first_partial = p.first_partial_month("civitai", entity)
        rows = monthly.filter(
            (pl.col("platform") == "civitai") & (pl.col("entity") == entity) & (pl.col("month") < first_partial)
        ).sort("month")
        if rows.is_empty():
            continue
        last = rows.row(-1, named=True)
        small = " (fewer than the stated minimum: read with care)" if last["n_items"] < s.MIN_N else ""
        cards.append(
            (
                f"{last['share_any']:.0%} / {last['share_strict']:.0%}",
                f"of the Civitai {entity}s created in {last['month']:%B %Y} (the last complete month) are NSFW "
                "(PG-13 and above / R and above)",
                f"n = {last['n_items']:,} {entity}s ({last['n_nsfw_any']:,} / {last['n_nsfw_strict']:,}){small}",
            )
        )
    rp = p.table("real_person_monthly").filter(pl.col("platform") == "civitai")
    if rp.height:
        end = p.first_partial_month("civitai", "model")
        complete = rp.filter(pl.col("month") < end)
        n_rp, n = complete["n_real_person"].sum(), complete["n_models"].sum()
        if n:
            cards.append(
                (
                    f"{n_rp:,}",
                    f"Civitai models created before {end:%B %Y} depict a real person (any tier)",
                    f"{n_rp / n:.0%} of the {n:,} models created then that hubwatch saw",
                )
            )
        known = complete["n_female"].sum() + complete["n_male"].sum()
        if known:
            cards.append(
                (
                    f"{complete['n_female'].sum() / known:.0%}",
                    "of the real-person models with a stated target gender target women",
                    f"n = {known:,} stated; {complete['n_unknown_gender'].sum():,} not stated",
                )
            )
    matches = p.table("cross_platform_matches")
    cards.append(
        (
            f"{matches['hf_model_id'].n_unique():,}",
            "Hugging Face repos holding a Civitai model's exact file",
            f"of {p.table('models').filter(pl.col('platform') == 'huggingface').height:,} Hugging Face repos seen",
        )
    )
    return cards


def index_body(p: Package) -> str:
    cards = "".join(
        f'<div class="headline"><b>{esc(v)}</b>{esc(t)}<small>{esc(n)}</small></div>' for v, t, n in headline_cards(p)
    )
    top = (
        p.table("models")
        .filter(pl.col("downloads_total").is_not_null())
        .sort("downloads_total", descending=True)
        .head(10)
        .select(
            pl.col("platform").replace(s.PLATFORM).alias("Platform"),
            pl.col("name").fill_null("(name withheld: depicts a real person)").alias("Model"),
            pl.col("model_type").alias("Type"),
            pl.col("base_model_family").alias("Base-model family"),
            pl.col("downloads_total").alias("Downloads (all time)"),
            pl.col("last_seen").cast(pl.String).alias("Last listed"),
        )
    )
    links = "".join(f'<li><a href="{n}">{esc(label)}</a></li>' for n, label in PAGES[1:])
    files = (
        '<p>Dated package: <a href="../manifest.json">manifest.json</a> (sha256 of every file), '
        '<a href="../SHA256SUMS">SHA256SUMS</a>, <a href="../CODEBOOK.md">codebook</a>, '
        '<a href="../datapackage.json">datapackage.json</a>, <a href="../hubwatch.duckdb">hubwatch.duckdb</a>, '
        '<a href="../data/">Parquet and CSV tables</a>. To cite it, see the '
        '<a href="methodology.html#cite">methodology page</a>.</p>'
    )
    return (
        "<section><h2>Headlines</h2><p class='note'>From the last month the snapshots cover whole; a month still "
        "in progress never makes a headline.</p>"
        f"{cards}</section><ul>{links}</ul>{files}<h2>Most downloaded models</h2>{table_html(top)}"
        "<p class='note'>Names of models depicting real people are withheld. Model names are the hubs' own "
        "text, shown as text.</p>"
    )


def policy_body(p: Package) -> str:
    events = p.optional("policy_events")
    if events is None or events.is_empty():
        return "<p>This package has no policy_events table (it predates the timeline).</p>"
    rows = []
    for e in events.sort("event_date").iter_rows(named=True):
        url = safe_url(e["source_url"])
        source = (
            f'<a href="{esc(url)}" title="{esc(url)}" rel="noreferrer">{esc(short_url(url))}</a>'
            if url
            else esc(e["source_url"])
        )
        caveat = e.get("caveat") or ""
        end = e["end_date"].isoformat() if e.get("end_date") else ("ongoing" if e["kind"] == "api_hides" else "")
        rows.append(
            f"<tr><td>{esc(e['event_date'])}</td><td>{esc(end)}</td><td>{esc(e['scope'])}</td><td>{esc(e['kind'])}</td>"
            f"<td><b>{esc(e['label'])}</b>: {esc(e['event'])}</td><td>{source}</td>"
            f"<td class='caveat'>{esc(caveat)}</td></tr>"
        )
    return (
        "<p>Platform, API and legal events that explain breaks in the series. Charts with time on the axis mark "
        "every event of kind platform, api or law as a dated line, and shade the periods in which an API hides "
        "content (kind api_hides) as structural breaks: after 2025-05-22 real-person models vanish from "
        "Civitai's public API whether or not they were deleted. Reports and ecosystem events (kind context) "
        "are listed here only. Dates marked ⚠️ come from secondary sources: check them before stating them as "
        "exact.</p><p>TAKE IT DOWN, the UK s.138 offence and AI Act Art. 50 concern depictions (images), not "
        "model files; only the UK offence of supplying nudification tools reaches generators.</p>"
        "<table class='events'><tr><th>Date</th><th>Until</th><th>Scope</th><th>Kind</th><th>Event</th><th>Source</th>"
        f"<th>How sure</th></tr>{''.join(rows)}</table><p class='note'>From this package's own "
        "<a href='../data/policy_events.csv'>policy_events</a> table (dbt seed policy_timeline).</p>"
    )


MEASURES = (
    ("Creation month", "models", "month"),
    ("NSFW, broad (models)", "models", "nsfw_any"),
    ("NSFW, strict (models)", "models", "nsfw_strict"),
    ("NSFW level (models)", "models", "nsfw_level"),
    ("NSFW, broad (images)", "images", "nsfw_any"),
    ("NSFW, strict (images)", "images", "nsfw_strict"),
    ("NSFW, explicit (images)", "images", "nsfw_explicit"),
    ("Image level source", "images", "level_source"),
    ("Real person (union)", "models", "real_person"),
    ("Tier 1: declared", "models", "real_person_declared"),
    ("Tier 2: tagged", "models", "real_person_tagged"),
    ("Tier 3: name match", "models", "real_person_name_match"),
    ("Tier 4: file hash", "models", "real_person_hash_match"),
    ("Target gender", "models", "target_gender"),
    ("Base-model family", "models", "base_model_family"),
    ("Subculture family (tags)", "tag_trends_monthly", "subculture"),
    ("Subculture membership", "subculture_trends_monthly", None),
    ("Removal", "models", "removal_kind"),
    ("Removed (per snapshot)", "lifecycle_by_snapshot", "n_removed"),
    ("Taken down", "lifecycle_by_snapshot", "n_taken_down"),
    ("Archived", "lifecycle_by_snapshot", "n_archived"),
    ("Re-upload", "cross_platform_matches", None),
    ("Downloads", "models", "downloads_total"),
    ("What a snapshot asked for", "snapshot_coverage", "params"),
)


def methodology_body(p: Package) -> str:
    measures = []
    for label, table, column in MEASURES:
        text = p.describe(table, column)
        if text:
            where = f"{table}.{column}" if column else table
            measures.append(
                f"<tr><td>{esc(label)}</td><td>{esc_prose(text)}</td><td><code>{esc(where)}</code></td></tr>"
            )
    changelog = p.optional("rules_changelog")
    if changelog is not None and changelog.height:
        history = table_html(
            changelog.sort(pl.col(changelog.columns[1]), descending=True) if len(changelog.columns) > 1 else changelog,
            {
                "rules_version": "Rule set",
                "changed_on": "Changed on",
                "measure": "Measure",
                "change": "Change",
                "reason": "Why",
            },
        )
    else:
        history = (
            "<p class='note'>This package has no rules_changelog table, so the history of the rule set is not "
            "shown here.</p>"
        )
    mappings = observed_mappings(p)
    caveats = coverage_caveats(p)
    return (
        f"<h2>Rule set</h2><p>Every measure in this package was computed under rule set <b>{esc(p.rules_version)}</b>. "
        "A rule lives in one dbt seed or macro; the descriptions below are the ones dbt wrote into the warehouse "
        "and the package's manifest, not a copy.</p>"
        f"<h3>Changes to the rule set</h3>{history}"
        "<h2>Measures</h2><table><tr><th>Measure</th><th>Rule (as the package documents it)</th><th>Column</th></tr>"
        f"{''.join(measures)}</table>"
        "<p class='note'>Every table and column: <a href='../CODEBOOK.md'>CODEBOOK.md</a>.</p>"
        f"{mappings}<h2>Coverage caveats</h2>{caveats}"
        f"<h2 id='cite'>Cite this package</h2>{citation_block(p)}"
    )


def observed_mappings(p: Package) -> str:
    """The rule seeds' mappings as they apply in this package (the tags and base models it holds)."""
    parts = []
    tags = p.table("tag_trends_monthly").filter(pl.col("subculture").is_not_null())
    if tags.height:
        fams = tags.group_by("subculture").agg(pl.col("tag").unique().sort()).sort("subculture")
        rows = "".join(
            f"<tr><td>{esc(fam)}</td><td>{esc(', '.join(t[:40]))}{' …' if len(t) > 40 else ''}</td></tr>"
            for fam, t in fams.iter_rows()
        )
        parts.append(
            "<h3>Subculture families: the tags of this package that map to each</h3>"
            f"<table><tr><th>Family</th><th>Tags (seed rules_subculture_tags)</th></tr>{rows}</table>"
            "<p class='note'>Models also join 'booru vocabulary' through their base model family.</p>"
        )
    models = p.table("models").filter(pl.col("base_model").is_not_null())
    if models.height:
        fams = (
            models.group_by("platform", "base_model_family")
            .agg(pl.col("base_model").unique().sort())
            .sort("platform", "base_model_family")
        )
        rows = "".join(
            f"<tr><td>{esc(s.PLATFORM.get(pf, pf))}</td><td>{esc(fam)}</td>"
            f"<td>{esc(', '.join(b[:20]))}{' …' if len(b) > 20 else ''}</td></tr>"
            for pf, fam, b in fams.iter_rows()
        )
        parts.append(
            "<h3>Base-model families: the base models of this package in each</h3>"
            "<table><tr><th>Platform</th><th>Family</th><th>Base models (seeds rules_base_model_families, "
            f"rules_hf_base_model_families)</th></tr>{rows}</table>"
        )
    return "".join(parts)


def coverage_caveats(p: Package) -> str:
    items = []
    events = p.optional("policy_events")
    if events is not None:
        for e in events.filter(pl.col("kind") == "api_hides").iter_rows(named=True):
            until = f"to {e['end_date']}" if e.get("end_date") else "onwards"
            items.append(f"<li><b>What the API hides</b> ({esc(e['event_date'])} {esc(until)}): {esc(e['event'])}</li>")
    params = p.describe("snapshot_coverage", "params")
    if params:
        items.append(f"<li><b>What hubwatch asks for</b>: {esc_prose(params)}</li>")
    pairs = [pair for pair in SOURCE_OF if p.last_snapshot.get(SOURCE_OF[pair]) or not p.last_snapshot]
    partial = "; ".join(
        f"{s.PLATFORM[pf]} {en}s: last snapshot {p.horizon(pf, en)}, "
        f"so {p.first_partial_month(pf, en):%B %Y} onwards is partial"
        for pf, en in pairs
    )
    items.append(
        "<li><b>Partial months</b>: a month is complete only when the snapshots cover every day of it. "
        f"{esc(partial)}. Partial months are drawn hollow or hatched, flagged in every CSV, and never used in a "
        "headline or a ranking.</li>"
    )
    imported = p.table("snapshot_coverage").filter(pl.col("kind") == "imported") if p.has("snapshot_coverage") else None
    if imported is not None and imported.height:
        rows = "; ".join(
            f"{r['source']} {r['snapshot_date']} (scope: {r['scope']}, from {r['host']})"
            for r in imported.iter_rows(named=True)
        )
        items.append(f"<li><b>Imported crawls</b> cover only what their makers crawled: {esc(rows)}.</li>")
    else:
        items.append("<li><b>Imported crawls</b>: none in this package.</li>")
    items.append(f"<li><b>Items without a creation date</b>: {esc(undated_note(p))}</li>")
    items.append(
        "<li><b>Never seen</b>: items deleted before the first snapshot that would have listed them; monthly tables "
        "count what survived until a snapshot saw it.</li>"
    )
    items.append(f"<li><b>Small samples</b>: {esc(min_n_note())}</li>")
    return f"<ul>{''.join(items)}</ul>"


CITATION_SCRIPT = """
<script>
(function () {
  function show(c) {
    var box = document.getElementById('citation');
    if (!box || !c) return;
    box.textContent = '';
    var rows = [['Title', c.title], ['Package date', c.publish_date], ['Rule set', c.rules_version],
      ['Manifest SHA-256 (the citation id)', c.manifest_sha256], ['Licence', c.license || c.licence],
      ['URL', c.url], ['Simulated data', c.simulated ? 'yes' : 'no']];
    var dl = document.createElement('dl');
    rows.forEach(function (r) {
      if (r[1] === undefined || r[1] === null || r[1] === '') return;
      var dt = document.createElement('dt'); dt.textContent = r[0];
      var dd = document.createElement('dd'); var code = document.createElement('code');
      code.textContent = String(r[1]); dd.appendChild(code); dl.appendChild(dt); dl.appendChild(dd);
    });
    box.appendChild(dl);
    var p = document.createElement('p');
    p.textContent = (c.title || 'hubwatch package') + ' (' + (c.publish_date || '') + '), rule set ' +
      (c.rules_version || '') + ', manifest sha256 ' + (c.manifest_sha256 || '') + '.' + (c.url ? ' ' + c.url : '');
    box.appendChild(p);
    box.setAttribute('data-source', 'citation.js');
  }
  var s = document.createElement('script');
  s.src = '../citation.js';
  s.onload = function () { show(window.hubwatchCitation); };
  document.head.appendChild(s);
})();
</script>
"""


def citation_block(p: Package) -> str:
    """Filled from ../citation.js (written by publish after the manifest, so it can hold the manifest's
    sha256); until then, and when it is absent, a fallback that says how to get the id."""
    return (
        '<div class="cite" id="citation" data-source="fallback">'
        f"<p><b>{esc(p.manifest.get('title', 'hubwatch package'))}</b>, package date {esc(p.publish_date)}, rule set "
        f"{esc(p.rules_version)}.</p><p>This package's <code>citation.js</code> could not be read, so its citation id "
        "is not shown here. The id is the SHA-256 of the package's <code>manifest.json</code>: run "
        "<code>sha256sum manifest.json</code> in the package folder, or read <code>CITATION.cff</code> where the "
        f"package has one.</p></div>{CITATION_SCRIPT}"
    )


def coverage_body(p: Package) -> str:
    text = (
        "<p>What the public APIs hide: without parameters both Civitai endpoints return PG content only "
        "(hubwatch asks for every level); since 2025-05-22 Civitai's API leaves out every real-person and "
        "minor-flagged model and image, so they can be seen only in snapshots taken before, or in imported "
        "crawls. Items deleted before a snapshot are never seen. Only complete snapshots are counted.</p>"
        f"<p>{esc(undated_note(p))}</p>"
    )
    coverage = (
        p.table("snapshot_coverage")
        .sort("source", "snapshot_date")
        .select(
            pl.col("source").alias("Source"),
            pl.col("snapshot_date").cast(pl.String).alias("Snapshot date"),
            pl.col("kind").alias("Kind"),
            pl.col("scope").alias("Scope"),
            pl.col("pages").alias("Pages stored"),
            pl.col("items").alias("Items"),
            pl.col("errors").alias("Errors survived"),
        )
    )
    monthly = p.optional("monthly_coverage")
    monthly_html = ""
    if monthly is not None:
        monthly_html = "<h2>Items with and without a creation date</h2>" + table_html(
            monthly,
            {
                "platform": "Platform",
                "entity": "Items",
                "n_items": "Counted",
                "n_dated": "With a creation date",
                "n_undated": "Without (left out of monthly charts)",
                "share_undated": "Share without",
            },
        )
    # images-feed: the image feed's delay (image_feed_delay) gets its own section here.
    delay = p.optional("image_feed_delay")
    delay_html = '<section id="image-feed-delay"><h2>How late images reach the feed</h2>'
    if delay is None:
        delay_html += (
            "<p class='note'>This package does not measure the image feed's delay (no image_feed_delay table).</p>"
        )
    else:
        delay_html += table_html(
            delay.sort("snapshot_date").with_columns(pl.col("snapshot_date").cast(pl.String)),
            {
                "snapshot_date": "Snapshot",
                "n_new_images": "New images",
                "delay_days_p50": "Delay, median (days)",
                "delay_days_p90": "90th percentile",
                "delay_days_max": "Longest",
            },
        )
    delay_html += "</section>"
    every = (
        f"<h2>Every snapshot</h2><details><summary>Show all {coverage.height} complete snapshots (source, date, "
        f"kind, scope, pages, items, errors)</summary>{table_html(coverage)}</details>"
    )
    return text, monthly_html + delay_html + every


def images_made_with_body(p: Package) -> tuple[str, str]:
    """The text before the charts of the images-made-with page, and the top-models table after them."""
    from dashboards import images_made_with as made

    if not made.available(p):
        return (
            "<p class='note'>This package does not measure what images are made with (it predates the "
            "image_resources tables).</p>",
            "",
        )
    before = (
        "<p>Civitai image items can name the models they were made with: version ids (<code>modelVersionIds</code>, "
        "<code>meta.civitaiResources</code>) or file hashes (<code>meta.resources</code>, <code>meta.hashes</code>, "
        "<code>Model hash</code>). hubwatch resolves each against its models snapshots; every reference that does "
        "not resolve is kept and counted by reason in <code>images_made_with_monthly</code> "
        "(<code>n_refs_*</code>) and listed in <code>image_resources</code>. Many images name nothing: the first "
        "chart is the coverage every other figure here rests on.</p>"
    )
    month, rows = made.top_models(p)
    if rows.is_empty():
        return before, ""
    after = (
        f"<h2>Models the most images of {esc(month)} were made with</h2>"
        "<p class='note'>The last complete month; table top_models_by_images_monthly. Names of real-person "
        "models are left out of the package unless it was published with names.</p>"
        + table_html(
            rows,
            {
                "model_rank": "rank",
                "model_id": "model id",
                "n_images": "images",
                "n_nsfw_images": "NSFW images",
                "base_model_family": "base-model family",
                "real_person": "real person",
            },
        )
    )
    return before, after
