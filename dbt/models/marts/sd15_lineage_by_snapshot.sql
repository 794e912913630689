-- The SD 1.5 lineage as each complete model snapshot listed it (int_sd15_lineage_models, by the
-- models' latest attributes): how many lineage models it listed, the named repos among them (on
-- Hugging Face: runwayml/stable-diffusion-v1-5 itself, its mirrors, named fine-tunes), which it saw
-- for the first time, which the previous snapshot of the same source and scope listed and this one
-- no longer does, and their downloads.
with chain as (
    select platform, snapshot_date, prev_snapshot_date from {{ ref('int_snapshots') }} where entity = 'model'
),

sightings as (
    select sightings.platform, sightings.model_id, sightings.snapshot_date, sightings.downloads_total,
        lineage.is_named
    from {{ ref('model_snapshots') }} as sightings
    inner join {{ ref('int_sd15_lineage_models') }} as lineage
        on lineage.platform = sightings.platform and lineage.model_id = sightings.model_id
),

firsts as (
    select platform, model_id, min(snapshot_date) as first_seen from sightings group by platform, model_id
),

listed as (
    select
        platform,
        snapshot_date,
        count(*) as n_listed,
        cast(sum(case when is_named then 1 else 0 end) as bigint) as n_named_listed,
        count(downloads_total) as n_with_downloads,
        cast(sum(downloads_total) as bigint) as downloads_listed
    from sightings
    group by platform, snapshot_date
),

new as (
    select platform, first_seen as snapshot_date, count(*) as n_new from firsts group by platform, first_seen
),

gone as (  -- listed by the previous snapshot of the chain, not by this one
    select chain.platform, chain.snapshot_date, count(*) as n_gone
    from chain
    inner join sightings as before
        on before.platform = chain.platform and before.snapshot_date = chain.prev_snapshot_date
    left join sightings as now
        on now.platform = chain.platform
        and now.snapshot_date = chain.snapshot_date
        and now.model_id = before.model_id
    where now.model_id is null
    group by chain.platform, chain.snapshot_date
)

select
    chain.platform,
    chain.snapshot_date,
    coalesce(listed.n_listed, 0) as n_listed,
    coalesce(listed.n_named_listed, 0) as n_named_listed,
    coalesce(new.n_new, 0) as n_new,
    coalesce(gone.n_gone, 0) as n_gone,
    coalesce(listed.n_with_downloads, 0) as n_with_downloads,
    listed.downloads_listed
from chain
left join listed on listed.platform = chain.platform and listed.snapshot_date = chain.snapshot_date
left join new on new.platform = chain.platform and new.snapshot_date = chain.snapshot_date
left join gone on gone.platform = chain.platform and gone.snapshot_date = chain.snapshot_date
