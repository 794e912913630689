{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_counts_of_emptied_image_groups() }}",
    **incremental_by_item('last_seen'),
) }}
-- Civitai images' prompts and minor-coded terms (int_images_prompted), counted by creation month
-- and kept apart for each snapshot the images were last seen in: minor_terms_nsfw_monthly adds
-- these up instead of reading every image at every build. A daily build recounts only the
-- snapshots whose images changed: the new one, those that lost images to it, and those holding
-- images rewritten in place (the prompt term rules changed). See image_groups_to_recount.
-- loaded_at is when the build that last counted the snapshot started (UTC).
-- depends_on: {{ ref('int_image_counts_by_last_seen') }}
{% set stale = image_groups_to_recount(total='sum(n_images)', rewritten_in=[ref('int_images_prompted')]) %}

with images as (
    select * from {{ ref('int_images_prompted') }}
    {% if is_incremental() %}
    where {% if stale %}last_seen in ({{ stale | join(', ') }}){% else %}false{% endif %}
    {% endif %}
)

select
    last_seen,
    last_seen_version,
    month,
    count(*) as n_images,
    cast(sum(has_prompt) as bigint) as n_with_prompt,
    cast(sum(case when has_prompt = 1 and nsfw_strict then 1 else 0 end) as bigint) as n_nsfw_with_prompt,
    cast(sum(minor_coded) as bigint) as n_minor_coded,
    cast(sum(case when minor_coded = 1 and nsfw_strict then 1 else 0 end) as bigint) as n_minor_coded_nsfw,
    cast(sum(case when minor_coded = 1 and nsfw_explicit then 1 else 0 end) as bigint) as n_minor_coded_explicit,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from images
group by last_seen, last_seen_version, month
