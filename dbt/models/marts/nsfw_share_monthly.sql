-- NSFW share by creation month: every item ever seen once, with its latest attributes.
with items as (
    select platform, 'model' as entity, month, nsfw_any, nsfw_strict from {{ ref('models') }}
    union all
    -- images as `images` has them (its latest-sighting decision), read from the narrow table
    select 'civitai', 'image', month, nsfw_any, nsfw_strict from {{ ref('int_image_last_seen') }}
)

select
    platform,
    entity,
    month,
    count(*) as n_items,
    cast(count_if(nsfw_any) as bigint) as n_nsfw_any,
    cast(count_if(nsfw_strict) as bigint) as n_nsfw_strict,
    count_if(nsfw_any) / count(*) as share_any,
    count_if(nsfw_strict) / count(*) as share_strict
from items
where month is not null
group by all
