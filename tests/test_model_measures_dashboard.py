"""The creators, engagement, SD 1.5 lineage and studies sections of the site (issue #21), on a
small package written straight to disk: shown when the package has the tables, a note when it
has not, hub and study text escaped, no creator hash on any page."""

from datetime import date

import polars as pl

from dashboards.site import render_site
from tests.dashboard_package import XSS, write_package

HASH = "ab" * 32
D1, D2 = date(2024, 8, 1), date(2024, 9, 1)


def measures() -> dict[str, pl.DataFrame]:
    counters = ("downloads", "thumbs_up", "favourites", "comments", "likes")
    engagement = {
        "platform": ["civitai"] * 2,
        "month": [D1] * 2,
        "split": ["real_person", "nsfw"],
        "flagged": [True, False],
        "n_models": [4, 6],
    }
    for c in counters:
        absent = c in ("favourites", "likes")
        engagement |= {
            f"n_{c}": [0, 0] if absent else [4, 6],
            f"total_{c}": [None, None] if absent else [400, 60],
            f"mean_{c}": [None, None] if absent else [100.0, 10.0],
            f"median_{c}": [None, None] if absent else [90.0, 9.0],
        }
    return {
        "engagement_monthly": pl.DataFrame(engagement),
        "real_person_downloads_by_snapshot": pl.DataFrame(
            {
                "platform": ["civitai"] * 2,
                "snapshot_date": [D1, D2],
                "n_listed": [3, 4],
                "n_listed_with_downloads": [3, 4],
                "downloads_listed": [1000, 900],
                "n_seen": [3, 4],
                "downloads_added": [1000, 123],
                "downloads_accrued": [1000, 1123],
                "n_counter_falls": [0, 1],
                "downloads_fallen": [0, 250],
            }
        ),
        "creators": pl.DataFrame(
            {
                "platform": ["civitai"],
                "creator_hash": [HASH],
                "n_models": [3],
                "n_real_person": [2],
                "n_nsfw": [1],
                "n_with_downloads": [3],
                "downloads_total": [10],
                "first_month": [D1],
                "last_month": [D2],
                "n_real_person_before_ban": [1],
                "n_real_person_after_ban": [1],
                "n_reuploads_after_ban": [0],
                "n_reupload_accounts_after_ban": [0],
                "continued_after_ban": [True],
            }
        ),
        "creator_concentration_monthly": pl.DataFrame(
            {
                "platform": ["civitai"],
                "month": [D1],
                "n_creators": [10],
                "n_models": [20],
                "n_models_without_creator": [0],
                "n_real_person": [5],
                "n_real_person_creators": [2],
                "n_top_1pct": [1],
                "n_real_person_top_1pct": [4],
                "share_top_1pct": [0.8],
                "n_top_10pct": [1],
                "n_real_person_top_10pct": [4],
                "share_top_10pct": [0.8],
                "gini_real_person": [0.87],
            }
        ),
        "sd15_lineage_by_snapshot": pl.DataFrame(
            {
                "platform": ["huggingface"] * 2,
                "snapshot_date": [D1, D2],
                "n_listed": [5, 3],
                "n_named_listed": [3, 1],
                "n_new": [5, 0],
                "n_gone": [0, 2],
                "n_with_downloads": [5, 3],
                "downloads_listed": [50, 40],
            }
        ),
        "sd15_lineage_monthly": pl.DataFrame(
            {
                "platform": ["huggingface"],
                "month": [D1],
                "n_all_models": [10],
                "n_models": [2],
                "share_of_new_models": [0.2],
                "n_named": [0],
                "n_on_sd15": [1],
                "n_on_mirror": [1],
                "n_on_derivative": [0],
                "n_still_listed": [1],
                "n_with_downloads": [2],
                "downloads_total": [30],
            }
        ),
        "study_comparisons": pl.DataFrame(
            {
                "figure_id": ["x"],
                "study": [XSS],
                "figure": ["images"],
                "published_value": [0.5],
                "published_denominator": [10.0],
                "unit": ["share"],
                "published_period": ["2023"],
                "confidence": ["verified"],
                "source_url": ["javascript:alert(1)"],
                "hubwatch_measure": ["share"],
                "hubwatch_value": [0.25],
                "hubwatch_numerator": [1],
                "hubwatch_denominator": [4],
                "why_they_differ": [XSS],
            }
        ),
    }


def test_the_sections_show_the_measures_escaped_and_without_creator_hashes(tmp_path):
    package = write_package(tmp_path, measures())
    render_site(package)
    site = package / "dashboards"
    real_person = (site / "real-person.html").read_text()
    assert 'id="real-person-downloads"' in real_person and "1,123" in real_person
    assert 'id="creators"' in real_person and 'id="engagement"' in real_person
    assert "SIMULATED DATA" in real_person
    assert 'id="sd15-lineage"' in (site / "base-models.html").read_text()
    # the charts, with the plotted data beside them
    assert (site / "data" / "real-person-downloads.csv").read_text().count(",1123,") == 1
    assert (site / "data" / "sd15-lineage-share.csv").exists()
    studies = (site / "studies.html").read_text()
    assert "25.00% (1 of 4)" in studies and "50.00%" in studies
    assert XSS not in studies and "&lt;img src=x" in studies and 'href="javascript:' not in studies
    assert not [p for p in site.glob("*.html") if HASH in p.read_text()]


def test_a_package_without_the_tables_says_so(rendered_package):
    site = rendered_package / "dashboards"  # tests/dashboard_package.py's tables only, rendered (conftest)
    assert "no real_person_downloads_by_snapshot table" in (site / "real-person.html").read_text()
    assert "no study_comparisons table" in (site / "studies.html").read_text()
    assert not (site / "data" / "real-person-downloads.csv").exists()
