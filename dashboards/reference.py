"""Published reference figures that the studies page sets beside ours.

Civiverse-6M dataset card (latentcanon/Civiverse-6M, CC BY-NC 4.0; De Rosa Palmini, Wagner,
Cetinic, arXiv 2408.15261): monthly image counts and NSFW ratio of Civitai images, Oct 2023 to
Apr 2024, crawled through /api/v1/images. Their "NSFW" is most likely the API's boolean, i.e.
PG-13 and above (our share_any).
"""

from datetime import date

import polars as pl

CIVIVERSE_MONTHLY = pl.DataFrame(
    {
        "month": [
            date(2023, 10, 1),
            date(2023, 11, 1),
            date(2023, 12, 1),
            date(2024, 1, 1),
            date(2024, 2, 1),
            date(2024, 3, 1),
            date(2024, 4, 1),
        ],
        "total_images": [405_920, 552_773, 661_746, 817_261, 926_644, 1_328_061, 1_853_760],
        "nsfw_ratio": [0.5519, 0.5829, 0.5597, 0.5859, 0.6121, 0.6504, 0.7294],
    }
)
