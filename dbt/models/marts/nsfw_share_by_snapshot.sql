-- NSFW share of what each complete snapshot saw.
with sightings as (
    select platform, 'model' as entity, snapshot_date, nsfw_any, nsfw_strict from {{ ref('model_snapshots') }}
    union all
    select platform, 'image' as entity, snapshot_date, nsfw_any, nsfw_strict from {{ ref('int_image_sightings') }}
)

select
    platform,
    entity,
    snapshot_date,
    count(*) as n_items,
    cast(count_if(nsfw_any) as bigint) as n_nsfw_any,
    cast(count_if(nsfw_strict) as bigint) as n_nsfw_strict,
    count_if(nsfw_any) / count(*) as share_any,
    count_if(nsfw_strict) / count(*) as share_strict
from sightings
group by all
