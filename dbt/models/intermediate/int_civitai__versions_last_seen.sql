{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_models_of_replaced_snapshots() }}",
    **incremental_by_item(['platform', 'version_key']),
) }}
-- One row per Civitai model version a complete models snapshot listed: its model and base model at
-- its last sighting (int_civitai__version_index reads it). A daily build reads only the new
-- snapshot's versions (macros/per_model_state.sql): a version it lists gets the new sighting, the
-- others keep theirs. version_key stands for version_id in the table's key, which cannot hold
-- null: -1 for a version listed without an id (one row, as in a full recomputation).
-- depends_on: {{ ref('int_snapshots') }}
{%- set load_from = model_snapshots_to_load_from('civitai') %}
{%- set appending = appends_to_loaded('civitai', load_from) %}

with ranked as (
    select
        snapshot_date,
        version_id,
        model_id,
        base_model,
        row_number() over (partition by version_id order by snapshot_date desc, model_id) as recency
    from {{ ref('stg_civitai__model_versions') }}
    where {{ model_sightings_filter(load_from, appending) }}
),

snapshots as (
    select snapshot_date, snapshot_version
    from {{ ref('int_snapshots') }}
    where platform = 'civitai' and entity = 'model'
)

select
    'civitai' as platform,
    ranked.version_id,
    coalesce(ranked.version_id, -1) as version_key,
    ranked.model_id,
    ranked.base_model,
    ranked.snapshot_date as last_seen,
    snapshots.snapshot_version as last_seen_version,
    (select max(cast(snapshot_version as {{ type_instant() }})) from snapshots) as loaded_through,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from ranked
inner join snapshots on snapshots.snapshot_date = ranked.snapshot_date
where ranked.recency = 1
