"""Items per second normalising stored Civitai /images pages into Parquet, on one core.

    python -m benchmarks.normalise_images [--items 200000]

Pages are written the way a crawl stores them (gzip bodies of 200 realistic items each, with
`meta` and `tags` as `withMeta`/`withTags` return them); the timed part is exactly what
`hubwatch snapshot` does after the last page: read the pages back, parse, normalise, write
Parquet. Polars is held to one thread (POLARS_MAX_THREADS=1) before it is imported.
"""

import os

os.environ["POLARS_MAX_THREADS"] = "1"

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import UTC, date, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import orjson  # noqa: E402

from ingest import civitai  # noqa: E402
from ingest.fakehub.api import image_item  # noqa: E402
from ingest.fakehub.world import build_world  # noqa: E402
from ingest.http import Fetched  # noqa: E402
from ingest.landing import StagedSnapshot, gc_paused  # noqa: E402

PROMPT = (
    "masterpiece, best quality, 1girl, solo, long hair, looking at viewer, smile, outdoors, "
    "cherry blossoms, detailed background, soft lighting, depth of field, <lora:style_v2:0.8>"
)


def realistic_items(n: int) -> list[dict]:
    world = build_world(seed=1, n_models=200, n_images=min(n, 20_000), n_repos=10)
    items = []
    for k in range(n):
        item = image_item(world.images[k % len(world.images)], world, with_tags=True, with_meta=True)
        item["id"] = 50_000_000 + k
        item["meta"] = {
            "prompt": PROMPT,
            "negativePrompt": "lowres, bad anatomy, worst quality",
            "seed": 1234567 + k,
            "steps": 28,
            "sampler": "DPM++ 2M Karras",
            "cfgScale": 6,
            "Size": "832x1216",
            "Model": "ponyDiffusionV6XL",
            "civitaiResources": [{"type": "checkpoint", "modelVersionId": 290640}],
        }
        items.append(item)
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=200_000)
    args = parser.parse_args()
    items = realistic_items(args.items)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        snap = StagedSnapshot(home, "civitai_images", date(2026, 1, 1), kind="simulated", host="bench", plan={})
        with snap:
            for start in range(0, len(items), 200):
                body = orjson.dumps({"items": items[start : start + 200], "metadata": {"nextCursor": str(start)}})
                fetched = Fetched("http://bench/images", 200, body, None, {}, datetime.now(UTC), 1)
                last = start + 200 >= len(items)
                snap.add_page(
                    fetched,
                    stream="items",
                    items=min(200, len(items) - start),
                    cursor=None if last else str(start),
                    state=None if last else {"cursor": str(start)},
                    errors=Counter(),
                )
            page_bytes = sum(p.stat().st_size for p in (snap.dir / "pages").glob("*.zst"))
            started = time.perf_counter()
            with gc_paused():  # as `hubwatch snapshot` does
                tables = civitai.normalise_images(civitai.items_of(snap.pages()))
            tables["images"].write_parquet(snap.dir / "images.parquet", compression="zstd")
            elapsed = time.perf_counter() - started
    item_bytes = len(orjson.dumps(items[:200])) / 200
    print(f"items: {len(items):,} in {len(items) // 200:,} pages ({page_bytes / 1e6:.1f} MB zstd)")
    print(f"average item: {item_bytes:,.0f} bytes of JSON")
    print(f"read + parse + normalise + write Parquet: {elapsed:.2f} s on one core")
    print(f"throughput: {len(items) / elapsed:,.0f} items/s (target >= 20,000)")


if __name__ == "__main__":
    main()
