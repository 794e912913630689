{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_models_of_replaced_snapshots() }}",
    **incremental_by_item(['platform', 'model_id']),
) }}
-- One row per model ever seen in a complete snapshot with its engagement counters as of the last
-- sighting that counted each (Civitai: thumbs up, favourites, comments; Hugging Face: likes), and
-- the date of that sighting. A counter never counted is null. int_model_engagement reads it, so a
-- daily build reads only the new snapshot's counters (macros/per_model_state.sql): a model's row is
-- its old row merged with its new sightings, the later non-null counter winning.
-- depends_on: {{ ref('int_snapshots') }}
{%- set counters = ['thumbs_up', 'favourites', 'comments', 'likes'] %}
{%- set load_from, appending = {}, {} %}
{%- for platform in ['civitai', 'huggingface'] %}
    {%- do load_from.update({platform: model_snapshots_to_load_from(platform)}) %}
    {%- do appending.update({platform: appends_to_loaded(platform, load_from[platform])}) %}
{%- endfor %}

with snapshots as (
    select platform, snapshot_date, snapshot_version
    from {{ ref('int_snapshots') }}
    where entity = 'model'
),

sightings as (  -- every sighting this build (re)loads, with its counters
    select
        'civitai' as platform,
        cast(model_id as {{ type_text() }}) as model_id,
        snapshot_date,
        thumbs_up_count as thumbs_up,
        {{ civitai_favourites('favorite_count', 'thumbs_up_count') }} as favourites,
        comment_count as comments,
        cast(null as bigint) as likes
    from {{ ref('stg_civitai__model_stats') }}
    where {{ model_sightings_filter(load_from['civitai'], appending['civitai']) }}
    union all
    select
        'huggingface' as platform,
        model_id,
        snapshot_date,
        cast(null as bigint) as thumbs_up,
        cast(null as bigint) as favourites,
        cast(null as bigint) as comments,
        likes
    from {{ ref('stg_huggingface__models') }}
    where {{ model_sightings_filter(load_from['huggingface'], appending['huggingface']) }}
),

candidates as (  -- each counter beside the date it was counted on
    select
        platform,
        model_id,
        snapshot_date as last_seen,
        {% for counter in counters %}{{ counter }}, case when {{ counter }} is not null then snapshot_date end as {{ counter }}_on{{ ',' if not loop.last }}
        {% endfor %}
    from sightings
    {% if is_incremental() %}
    union all
    -- on an ordinary day, what the table holds for the models seen again (all from earlier snapshots)
    select
        earlier.platform,
        earlier.model_id,
        earlier.last_seen,
        {% for counter in counters %}earlier.{{ counter }}, earlier.{{ counter }}_on{{ ',' if not loop.last }}
        {% endfor %}
    from {{ this }} as earlier
    where ({% for platform in ['civitai', 'huggingface'] %}{{ 'or ' if not loop.first }}(earlier.platform = '{{ platform }}' and {{ 'true' if appending[platform] else 'false' }})
        {% endfor %})
        and exists (
            select 1 from sightings where sightings.platform = earlier.platform and sightings.model_id = earlier.model_id
        )
    {% endif %}
),

merged as (
    select
        platform,
        model_id,
        max(last_seen) as last_seen,
        {% for counter in counters %}{{ arg_max(counter, counter ~ '_on') }} as {{ counter }},
        max({{ counter }}_on) as {{ counter }}_on{{ ',' if not loop.last }}
        {% endfor %}
    from candidates
    group by platform, model_id
)

select
    merged.platform,
    merged.model_id,
    {% for counter in counters %}cast(merged.{{ counter }} as bigint) as {{ counter }},
    merged.{{ counter }}_on,
    {% endfor -%}
    merged.last_seen,
    latest.snapshot_version as last_seen_version,
    (
        select max(cast(s.snapshot_version as {{ type_instant() }})) from snapshots as s where s.platform = merged.platform
    ) as loaded_through,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from merged
inner join snapshots as latest on latest.platform = merged.platform and latest.snapshot_date = merged.last_seen
