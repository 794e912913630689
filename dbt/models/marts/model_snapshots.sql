{{ config(
    on_schema_change='fail',
    pre_hook={'sql': "{{ drop_grain_index_before_rebuild() }}", 'transaction': false},
    meta={'grain_index': ['platform', 'model_id', 'snapshot_date']},
    post_hook="{{ ensure_grain_index() }}",
    **incremental_by_snapshot(['platform', 'snapshot_date']),
) }}
-- One row per model per complete snapshot, both platforms, every tier side by side, with the
-- hash tier (see the hash_tier_rules docs) and the download delta since the previous snapshot
-- of the same source and scope. DuckDB holds its grain with a unique index (grain_index.sql).
-- depends_on: {{ ref('int_snapshots') }}
{%- set load_from = {'civitai': reload_from('civitai_models', 'civitai'), 'huggingface': reload_from('hf_models', 'huggingface')} %}

{#- both platforms' classified snapshots, column by column (by name: Spark stores partition columns last) -#}
{%- set columns = [
    'platform', 'model_id', 'snapshot_date', 'snapshot_version', 'name', 'model_type', 'base_model',
    'base_model_family', 'booru_base_model', 'created_at', 'creator_hash', 'nsfw_declared', 'nsfw_level',
    'nsfw_any', 'nsfw_strict', 'real_person_declared', 'real_person_tagged', 'real_person_name_match',
    'matched_names', 'target_gender', 'downloads_total', 'downloads_30d', 'status', 'tags',
] %}
with classified as (
    select {{ columns | join(', ') }} from {{ ref('int_civitai__model_snapshots') }}
    where snapshot_date >= {{ load_from['civitai'] }}
    union all
    select {{ columns | join(', ') }} from {{ ref('int_huggingface__model_snapshots') }}
    where snapshot_date >= {{ load_from['huggingface'] }}
),

flagged as (  -- the registry: each flagged weight file, the model it was flagged on, and since when
    select sha256, civitai_model_id, min(snapshot_date) as first_flagged_on
    from {{ ref('int_real_person_file_sightings') }}
    group by all
),

files as (  -- every file of this snapshot whose hash the registry holds, both platforms, of any type
    select platform, model_id, snapshot_date, sha256, is_weight
    from {{ ref('int_model_files') }}
    where ((platform = 'civitai' and snapshot_date >= {{ load_from['civitai'] }})
            or (platform = 'huggingface' and snapshot_date >= {{ load_from['huggingface'] }}))
        and sha256 in (select sha256 from flagged)
),

shared as ({{ shared_files('files') }}),

hash_matches as (  -- an own weight file, not shared in this snapshot, of another model flagged by this date
    select distinct files.platform, files.model_id, files.snapshot_date
    from files
    inner join flagged
        on flagged.sha256 = files.sha256
        and flagged.first_flagged_on <= files.snapshot_date
        and not (files.platform = 'civitai' and flagged.civitai_model_id = files.model_id)
    left join shared
        on shared.platform = files.platform
        and shared.snapshot_date = files.snapshot_date
        and shared.sha256 = files.sha256
    where files.is_weight and shared.sha256 is null
),

chain as (
    select platform, snapshot_date, prev_snapshot_date
    from {{ ref('int_snapshots') }}
    where entity = 'model'
),

previous as (  -- downloads in the previous snapshot: from this batch, or already loaded
    select platform, model_id, snapshot_date, downloads_total from classified
    {% if is_incremental() %}
    union all
    select loaded.platform, loaded.model_id, loaded.snapshot_date, loaded.downloads_total
    from {{ this }} as loaded
    inner join (
        select distinct chain.platform, chain.prev_snapshot_date
        from chain
        inner join (select distinct platform, snapshot_date from classified) as batch using (platform, snapshot_date)
    ) as wanted on wanted.platform = loaded.platform and wanted.prev_snapshot_date = loaded.snapshot_date
    where not exists (
        select 1 from classified where classified.platform = loaded.platform and classified.snapshot_date = loaded.snapshot_date
    )
        -- no earlier than the first previous snapshot (a literal date: the scan is pruned)
        and ((loaded.platform = 'civitai' and loaded.snapshot_date >= {{ model_chain_start('civitai', load_from['civitai']) }})
            or (loaded.platform = 'huggingface' and loaded.snapshot_date >= {{ model_chain_start('huggingface', load_from['huggingface']) }}))
    {% endif %}
)

select
    classified.platform,
    classified.model_id,
    classified.snapshot_date,
    classified.snapshot_version,
    classified.name,
    classified.model_type,
    classified.base_model,
    classified.base_model_family,
    classified.booru_base_model,
    classified.created_at,
    classified.creator_hash,
    classified.nsfw_declared,
    classified.nsfw_level,
    classified.nsfw_any,
    classified.nsfw_strict,
    (
        classified.real_person_declared
        or classified.real_person_tagged
        or classified.real_person_name_match
        or hash_matches.model_id is not null
    ) as real_person,
    classified.real_person_declared,
    classified.real_person_tagged,
    classified.real_person_name_match,
    hash_matches.model_id is not null as real_person_hash_match,
    classified.target_gender,
    classified.downloads_total,
    classified.downloads_30d,
    classified.downloads_total - previous.downloads_total as downloads_delta,
    coalesce(classified.downloads_total < previous.downloads_total, false) as downloads_decreased,
    classified.status,
    classified.tags
from classified
left join hash_matches using (platform, model_id, snapshot_date)
left join chain using (platform, snapshot_date)
left join previous
    on previous.platform = classified.platform
    and previous.model_id = classified.model_id
    and previous.snapshot_date = chain.prev_snapshot_date
