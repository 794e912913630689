{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_counts_of_emptied_snapshots() }}",
    **incremental_by_item('last_seen'),
) }}
-- Image counts by creation month (all images, each tag, each subculture family), kept apart for
-- each snapshot the images were last seen in. A daily build recounts only the snapshots whose
-- images changed: the new one, those that lost images to it (see stale_image_groups), and those
-- whose images int_image_last_seen decided again since (a retake moves images back to an earlier
-- snapshot, which may lose as many to the retaken one). The monthly trend marts add these counts
-- up instead of unnesting every image's tags again. loaded_at is when the build that last counted
-- the snapshot started (UTC).
{% set rules_hash = subculture_rules_hash() %}
{% set stale = (stale_image_groups(rules_hash) + image_groups_rewritten_since_counted([ref('int_image_last_seen')])) | unique | sort | list %}

with images as (
    select platform, image_id, last_seen, last_seen_version, month, tags
    from {{ ref('images') }}
    {% if is_incremental() %}
    where {% if stale %}last_seen in ({{ stale | join(', ') }}){% else %}false{% endif %}
    {% endif %}
),

tags as (
    select platform, image_id, last_seen, last_seen_version, month, {{ unnest(list_distinct('tags')) }} as tag from images
),

counts as (
    select platform, last_seen, last_seen_version, month, 'all' as kind, cast(null as {{ type_text() }}) as label, count(*) as n_items
    from images
    group by all
    union all
    select platform, last_seen, last_seen_version, month, 'tag', tag, count(*)
    from tags
    group by all
    union all
    select tags.platform, tags.last_seen, tags.last_seen_version, tags.month, 'subculture', rules.subculture,
        count(distinct tags.image_id)
    from tags
    inner join {{ ref('rules_subculture_tags') }} as rules on rules.tag = tags.tag
    group by all
)

select
    *,
    '{{ rules_hash }}' as rules_hash,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from counts
