{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_models_of_replaced_snapshots() }}",
    **incremental_by_item(['platform', 'version_key', 'sha256', 'file_type']),
) }}
-- One row per Civitai model version, file SHA-256 and file type a complete models snapshot listed,
-- with the last snapshot that listed them (int_civitai__weight_file_hashes reads it). A daily build
-- reads only the new snapshot's files (macros/per_model_state.sql), from int_model_files. A file
-- without a hash or a type can name no version (int_civitai__weight_file_hashes keeps weight files
-- by type) and is left out. version_key stands for version_id in the table's key, which cannot hold
-- null: -1 for a file listed without a version id (its hash still counts, as naming no version).
-- depends_on: {{ ref('int_snapshots') }}
{%- set load_from = model_snapshots_to_load_from('civitai') %}
{%- set appending = appends_to_loaded('civitai', load_from) %}

with files as (
    select version_id, sha256, file_type, max(snapshot_date) as last_seen
    from {{ ref('int_model_files') }}
    where platform = 'civitai' and file_type is not null
        and {{ model_sightings_filter(load_from, appending) }}
    group by version_id, sha256, file_type
),

snapshots as (
    select snapshot_date, snapshot_version
    from {{ ref('int_snapshots') }}
    where platform = 'civitai' and entity = 'model'
)

select
    'civitai' as platform,
    files.version_id,
    coalesce(files.version_id, -1) as version_key,
    files.sha256,
    files.file_type,
    files.last_seen,
    snapshots.snapshot_version as last_seen_version,
    (select max(cast(snapshot_version as {{ type_instant() }})) from snapshots) as loaded_through,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from files
inner join snapshots on snapshots.snapshot_date = files.last_seen
