-- NSFW share of what each complete snapshot saw (its counts: int_nsfw_counts_by_snapshot, which a
-- daily build updates from the new snapshot).
select
    platform,
    entity,
    snapshot_date,
    n_items,
    n_nsfw_any,
    n_nsfw_strict,
    n_nsfw_any / n_items as share_any,
    n_nsfw_strict / n_items as share_strict
from {{ ref('int_nsfw_counts_by_snapshot') }}
