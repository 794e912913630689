{{ config(on_schema_change='fail', **incremental_by_snapshot(['platform', 'snapshot_date'])) }}
-- One row per complete model snapshot: how many models it listed, and which models that were active
-- in the previous snapshot of the same source and scope it no longer listed. Kept per snapshot, so
-- a daily build reads only the new snapshot and the one before it; a snapshot imported late or
-- retaken reloads itself and every later one (see reload_from), whose previous snapshot may have
-- changed. lifecycle_by_snapshot counts from it; loaded_at says which snapshots a build (re)loaded,
-- so whole-history checks can look at those alone (tests/lifecycle_counts_add_up.sql).
-- depends_on: {{ ref('int_snapshots') }}
{%- set load_from = {'civitai': reload_from('civitai_models', 'civitai'), 'huggingface': reload_from('hf_models', 'huggingface')} %}

with chain as (  -- the snapshots this build (re)loads, each beside the previous one of its source and scope
    select platform, snapshot_date, snapshot_version, prev_snapshot_date
    from {{ ref('int_snapshots') }}
    where entity = 'model'
        and ((platform = 'civitai' and snapshot_date >= {{ load_from['civitai'] }})
            or (platform = 'huggingface' and snapshot_date >= {{ load_from['huggingface'] }}))
),

sightings as (  -- the sightings in those snapshots and in the ones before them (literal dates: pruned)
    select platform, model_id, snapshot_date, status
    from {{ ref('model_snapshots') }}
    where (platform = 'civitai' and snapshot_date >= {{ model_chain_start('civitai', load_from['civitai']) }})
        or (platform = 'huggingface' and snapshot_date >= {{ model_chain_start('huggingface', load_from['huggingface']) }})
),

visible as (
    select platform, snapshot_date, count(*) as n_visible from sightings group by platform, snapshot_date
),

removed as (  -- active in the previous snapshot, absent from this one
    select chain.platform, chain.snapshot_date, before.model_id
    from chain
    inner join sightings as before
        on before.platform = chain.platform and before.snapshot_date = chain.prev_snapshot_date
    left join sightings as now
        on now.platform = chain.platform and now.snapshot_date = chain.snapshot_date and now.model_id = before.model_id
    where before.status = 'active' and now.model_id is null
),

removed_lists as (
    select platform, snapshot_date, count(*) as n_removed, {{ list_agg_distinct_sorted('model_id') }} as removed_model_ids
    from removed
    group by platform, snapshot_date
)

select
    chain.platform,
    chain.snapshot_date,
    chain.snapshot_version,
    chain.prev_snapshot_date,
    coalesce(visible.n_visible, 0) as n_visible,
    coalesce(removed_lists.n_removed, 0) as n_removed,
    coalesce(removed_lists.removed_model_ids, {{ empty_list() }}) as removed_model_ids,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC: the build that (re)loaded the snapshot
from chain
left join visible on visible.platform = chain.platform and visible.snapshot_date = chain.snapshot_date
left join removed_lists on removed_lists.platform = chain.platform and removed_lists.snapshot_date = chain.snapshot_date
