-- The population every monthly table counts (each item ever seen in a complete snapshot, once), by
-- platform and entity, and how many of those items the monthly tables leave out for lack of a
-- creation date. The monthly tables' counts add up to n_dated (tested).
with items as (
    select platform, 'model' as entity, month from {{ ref('models') }}
    union all
    -- images as the monthly tables count them (int_image_last_seen holds the rows of `images`)
    select 'civitai', 'image', month from {{ ref('int_image_last_seen') }}
),

counts as (
    select platform, entity, count(*) as n_items, count(month) as n_dated
    from items
    group by all
)

select
    platform,
    entity,
    n_items,
    n_dated,
    n_items - n_dated as n_undated,
    (n_items - n_dated) / n_items as share_undated
from counts
