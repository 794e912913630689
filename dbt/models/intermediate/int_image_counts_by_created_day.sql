{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_counts_of_emptied_image_groups() }}",
    **incremental_by_item('last_seen'),
) }}
-- Civitai images counted by the day they were created (null: undated) and whether they are NSFW
-- (any tier), kept apart for each snapshot the images were last seen in: what study_comparisons'
-- image figures add up (images seen; images created before a date, and how many of them NSFW)
-- instead of reading every image at every build. An image only ever moves to a later snapshot (or
-- its snapshot is retaken under a new version), so a daily build recounts only the snapshots whose
-- images changed: the new one and those that lost images to it. See image_groups_to_recount.
-- depends_on: {{ ref('int_image_counts_by_last_seen') }}
{% set stale = image_groups_to_recount() %}

with images as (
    select last_seen, last_seen_version, created_at, nsfw_any
    from {{ ref('images') }}
    where platform = 'civitai'
    {% if is_incremental() %}
        and {% if stale %}last_seen in ({{ stale | join(', ') }}){% else %}false{% endif %}
    {% endif %}
)

select
    last_seen,
    last_seen_version,
    cast(created_at as date) as created_day,
    count(*) as n_items,
    sum(case when nsfw_any then 1 else 0 end) as n_nsfw_any
from images
group by last_seen, last_seen_version, cast(created_at as date)
