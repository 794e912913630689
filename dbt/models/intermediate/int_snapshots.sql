-- Complete snapshots in order within each source and scope: lifecycle compares a snapshot only
-- with the previous one of the same source and scope (an imported crawl of one model type
-- never makes every other model look removed).
select
    source,
    case when source like 'civitai%' then 'civitai' else 'huggingface' end as platform,
    case when source = 'civitai_images' then 'image' else 'model' end as entity,
    snapshot_date,
    snapshot_version,
    kind,
    scope,
    lag(snapshot_date) over chain as prev_snapshot_date,
    lead(snapshot_date) over chain as next_snapshot_date
from {{ ref('stg_hubwatch__snapshots') }}
window chain as (partition by source, scope order by snapshot_date)
