{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_counts_of_emptied_image_groups() }}",
    **incremental_by_item('last_seen'),
) }}
-- Civitai images counted by the day they were created (null: undated) and whether they are NSFW
-- (any tier), kept apart for each snapshot the images were last seen in: what study_comparisons'
-- image figures add up (images seen; images created before a date, and how many of them NSFW)
-- instead of reading every image at every build. A daily build recounts only the snapshots whose
-- images changed: the new one, those that lost images to it, and those whose images
-- int_image_last_seen decided again since (a retake moves images back to an earlier snapshot).
-- See image_groups_to_recount. loaded_at is when the build that last counted the snapshot started
-- (UTC).
-- depends_on: {{ ref('int_image_counts_by_last_seen') }}
{% set stale = image_groups_to_recount(rewritten_in=[ref('int_image_last_seen')]) %}

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
    sum(case when nsfw_any then 1 else 0 end) as n_nsfw_any,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from images
group by last_seen, last_seen_version, cast(created_at as date)
