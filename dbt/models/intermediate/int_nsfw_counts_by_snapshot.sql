{{ config(on_schema_change='fail', **incremental_by_snapshot(['platform', 'entity', 'snapshot_date'])) }}
-- Per platform, entity and complete snapshot, how many items it saw and how many of them were NSFW
-- (any tier, strict): nsfw_share_by_snapshot's counts, kept per snapshot. Counting every snapshot
-- again at every build cost a daily build more with each day of history (every model and image
-- sighting ever, 12 M rows at a year of the year tier); a daily build counts only the snapshots the
-- per-snapshot tables (re)loaded since this table last wrote rows (last_written_at): each such
-- snapshot's sightings were all rewritten then (they load whole snapshots), so they are counted
-- whole, and replace its rows here. A withdrawal makes the build a full refresh.
{%- set written_at = last_written_at() %}
with sightings as (
    {%- for table, entity in [('int_civitai__model_snapshots', 'model'), ('int_huggingface__model_snapshots', 'model'), ('int_image_sightings', 'image')] %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select platform, '{{ entity }}' as entity, snapshot_date, nsfw_any, nsfw_strict
    from {{ ref(table) }}
    {%- if written_at %}
    where loaded_at > {{ written_at }}
    {%- endif %}
    {%- endfor %}
)

select
    platform,
    entity,
    snapshot_date,
    count(*) as n_items,
    cast(count_if(nsfw_any) as bigint) as n_nsfw_any,
    cast(count_if(nsfw_strict) as bigint) as n_nsfw_strict,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from sightings
group by platform, entity, snapshot_date
