{{ config(
    on_schema_change='fail',
    pre_hook="{{ delete_snapshots_to_reload(['civitai', 'huggingface']) }}",
    **incremental_by_snapshot(['platform', 'snapshot_date']),
) }}
-- Every file of every model per snapshot, both platforms, with whether it is one of the model's
-- own weight files under the hash-tier rules. Files without a SHA-256 cannot match and are left out.
-- Kept per snapshot: a daily build reads the new snapshot's files from raw/ once (a day's files are
-- joined to every stored-row pack, ingest/rowstore.py) and the models that read files (model_snapshots,
-- int_real_person_file_sightings, cross_platform_matches) read this table, pruned by date, instead
-- of the packs again each. snapshot_version: the take of the day the rows come from; loaded_through:
-- the newest snapshot version the build that wrote the row had (macros/per_model_state.sql: a
-- snapshot is new to the table when later than every row's or finished after that).
-- depends_on: {{ ref('int_snapshots') }}
{%- set load_from = {} %}
{%- for platform in ['civitai', 'huggingface'] %}
    {%- do load_from.update({platform: model_snapshots_to_load_from(platform, date_column='snapshot_date')}) %}
{%- endfor %}

with civitai as (
    select
        'civitai' as platform,
        cast(model_id as {{ type_text() }}) as model_id,
        snapshot_date,
        version_id,
        file_id,
        file_name,
        file_type,
        sha256
    from {{ ref('stg_civitai__model_files') }}
    where sha256 is not null and snapshot_date >= {{ load_from['civitai'] }}
),

huggingface as (
    select
        'huggingface' as platform,
        model_id,
        snapshot_date,
        cast(null as bigint) as version_id,
        cast(null as bigint) as file_id,
        rfilename as file_name,
        cast(null as {{ type_text() }}) as file_type,  -- the Hub has no file types: the extension decides
        sha256
    from {{ ref('stg_huggingface__model_files') }}
    where sha256 is not null and snapshot_date >= {{ load_from['huggingface'] }}
),

files as (
    select * from civitai
    union all
    select * from huggingface
),

snapshots as ({{ model_snapshot_versions() }}),  -- a day that is no complete snapshot: a null version

loaded as (
    select platform, max(cast(snapshot_version as {{ type_instant() }})) as loaded_through
    from {{ ref('int_snapshots') }}
    where entity = 'model'
    group by platform
)

select
    files.*,
    coalesce(types.is_weight, files.file_type is null and extensions.extension is not null) as is_weight,
    snapshots.snapshot_version,
    loaded.loaded_through
from files
left join snapshots on snapshots.platform = files.platform and snapshots.snapshot_date = files.snapshot_date
left join loaded on loaded.platform = files.platform
left join {{ ref('rules_civitai_file_types') }} as types on types.file_type = files.file_type
left join {{ ref('rules_weight_file_extensions') }} as extensions
    on extensions.extension = {{ file_extension('files.file_name') }}
