-- The SD 1.5 lineage as each complete model snapshot listed it (int_sd15_lineage_models, by the
-- models' latest attributes): how many lineage models it listed, the named repos among them (on
-- Hugging Face: runwayml/stable-diffusion-v1-5 itself, its mirrors, named fine-tunes), which it saw
-- for the first time, which the previous snapshot of the same source and scope listed and this one
-- no longer does, and their downloads. Each snapshot's figures are kept in int_sd15_lineage_counts,
-- which a daily build updates from the new snapshot.
with chain as (
    select platform, snapshot_date from {{ ref('int_snapshots') }} where entity = 'model'
)

select
    chain.platform,
    chain.snapshot_date,
    coalesce(counts.n_listed, 0) as n_listed,
    coalesce(counts.n_named_listed, 0) as n_named_listed,
    coalesce(counts.n_new, 0) as n_new,
    coalesce(counts.n_gone, 0) as n_gone,
    coalesce(counts.n_with_downloads, 0) as n_with_downloads,
    case when counts.n_with_downloads > 0 then counts.downloads_listed end as downloads_listed
from chain
left join {{ ref('int_sd15_lineage_counts') }} as counts
    on counts.platform = chain.platform and counts.snapshot_date = chain.snapshot_date
