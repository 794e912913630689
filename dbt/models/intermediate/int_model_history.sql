{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_models_of_replaced_snapshots() }}",
    **incremental_by_item(['platform', 'model_id']),
) }}
-- One row per model ever seen in a complete snapshot: what `models` and `lifecycle_by_snapshot`
-- need from its whole history (first and last sighting, the first sighting in each removal mode,
-- every real-person tier as any sighting showed it) and the attributes of its last sighting.
-- A daily build merges only the models the new snapshot listed with what the table already held,
-- so it costs one snapshot, not the whole history. A snapshot is new to this table when it is
-- later than every sighting it holds, or was finished after the newest snapshot the table was
-- built from (loaded_through): a retaken (--force) or late-imported snapshot, of any date, is
-- always finished after the build that came before it. Every snapshot from the earliest new one
-- on is reloaded, and the models last seen in them are recomputed from all their sightings (a
-- scan of history, paid only when an already-loaded snapshot is retaken). A withdrawn snapshot
-- makes the build a full refresh.
-- depends_on: {{ ref('int_snapshots') }}
{%- set platforms = ['civitai', 'huggingface'] %}
{%- set load_from = {} %}
{%- for platform in platforms %}
    {%- do load_from.update({platform: model_snapshots_to_load_from(platform)}) %}
{%- endfor %}
{%- set reloaded -%}
    ({% for platform in platforms %}{{ 'or ' if not loop.first }}(platform = '{{ platform }}' and {date} >= {{ load_from[platform] }}){% endfor %})
{%- endset %}
{%- set retaken = is_incremental() and execute and run_query(
    "select count(*) from " ~ this ~ " where " ~ reloaded.replace('{date}', 'last_seen')
).columns[0].values()[0] > 0 %}
{%- set tiers = ['real_person', 'real_person_declared', 'real_person_tagged', 'real_person_name_match', 'real_person_hash_match'] %}
{%- set attributes = [
    'name', 'model_type', 'base_model', 'base_model_family', 'booru_base_model', 'created_at', 'creator_hash',
    'nsfw_declared', 'nsfw_level', 'nsfw_any', 'nsfw_strict', 'target_gender', 'downloads_total', 'downloads_30d',
    'status', 'tags',
] %}

with snapshots as (
    select platform, snapshot_date, snapshot_version
    from {{ ref('int_snapshots') }}
    where entity = 'model'
),

sightings as (  -- the sightings in the snapshots this build (re)loads
    select *
    from {{ ref('model_snapshots') }} as sighting
    where {{ reloaded.replace('{date}', 'snapshot_date') }}
    {% if retaken %}
        -- and every sighting of the models last seen in a snapshot being reloaded
        or exists (
            select 1 from {{ this }} as loaded
            where loaded.platform = sighting.platform and loaded.model_id = sighting.model_id
                and {{ reloaded.replace('platform', 'loaded.platform').replace('{date}', 'loaded.last_seen') }}
        )
    {% endif %}
),

history as (
    select
        platform,
        model_id,
        min(snapshot_date) as first_seen,
        max(snapshot_date) as last_seen,
        min(case when status = 'taken_down' then snapshot_date end) as first_taken_down,
        min(case when status = 'archived' then snapshot_date end) as first_archived,
        {% for tier in tiers %}bool_or({{ tier }}) as {{ tier }}{{ ',' if not loop.last }}
        {% endfor %}
    from sightings
    group by platform, model_id
),

merged as (
    select
        history.platform,
        history.model_id,
        {% if is_incremental() -%}
        -- what the table held stays valid when it came only from snapshots before the reloaded ones
        -- (a bool_or over both sets of sightings: null only when both are)
        {%- set kept = 'earlier.last_seen < ' ~ load_from['civitai'] ~ " and earlier.platform = 'civitai' or earlier.last_seen < " ~ load_from['huggingface'] ~ " and earlier.platform = 'huggingface'" %}
        case when {{ kept }} then earlier.first_seen else history.first_seen end as first_seen,
        history.last_seen,
        case when {{ kept }} then coalesce(earlier.first_taken_down, history.first_taken_down) else history.first_taken_down end as first_taken_down,
        case when {{ kept }} then coalesce(earlier.first_archived, history.first_archived) else history.first_archived end as first_archived,
        {% for tier in tiers -%}
        case
            when not ({{ kept }}) or earlier.{{ tier }} is null then history.{{ tier }}
            when history.{{ tier }} is null then earlier.{{ tier }}
            else history.{{ tier }} or earlier.{{ tier }}
        end as {{ tier }}{{ ',' if not loop.last }}
        {% endfor %}
        {%- else -%}
        history.first_seen,
        history.last_seen,
        history.first_taken_down,
        history.first_archived,
        {% for tier in tiers %}history.{{ tier }}{{ ',' if not loop.last }}
        {% endfor %}
        {%- endif %}
    from history
    {% if is_incremental() %}
    left join {{ this }} as earlier on earlier.platform = history.platform and earlier.model_id = history.model_id
    {% endif %}
)

select
    merged.platform,
    merged.model_id,
    merged.first_seen,
    merged.last_seen,
    latest.snapshot_version as last_seen_version,
    merged.first_taken_down,
    merged.first_archived,
    {% for tier in tiers %}merged.{{ tier }},
    {% endfor %}
    {%- for attribute in attributes %}latest.{{ attribute }},
    {% endfor -%}
    (
        select max(cast(s.snapshot_version as {{ type_instant() }})) from snapshots as s where s.platform = merged.platform
    ) as loaded_through,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from merged
inner join sightings as latest  -- the last sighting (a join: cheaper than a window over the sightings)
    on latest.platform = merged.platform
    and latest.model_id = merged.model_id
    and latest.snapshot_date = merged.last_seen
