{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_counts_of_emptied_snapshots() }}",
    **incremental_by_item('last_seen'),
) }}
-- Image counts by creation month (all images, each tag, each subculture family), kept apart for
-- each snapshot the images were last seen in. An image only ever moves to a later snapshot (or its
-- snapshot is retaken under a new version), so a daily build recounts only the snapshots whose
-- images changed: the new one and those that lost images to it. The monthly trend marts add these
-- counts up instead of unnesting every image's tags again. See stale_image_groups.
{% set rules_hash = subculture_rules_hash() %}
{% set stale = stale_image_groups(rules_hash) %}

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

select *, '{{ rules_hash }}' as rules_hash from counts
