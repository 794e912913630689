{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_counts_of_emptied_image_groups() }}",
    **incremental_by_item('last_seen'),
) }}
-- What Civitai images were made with, counted by creation month and kept apart for each snapshot
-- the images were last seen in: images_made_with_monthly and images_by_base_model_family_monthly
-- add these up instead of reading every image at every build. kind 'all' (label null): the images
-- and their resource counts (int_images_made_with); kind 'base_model_family' (label: the family):
-- the images made with a resolved model of that family (image_resources; an image made with two
-- families counts in each). A daily build recounts only the snapshots whose images changed: the
-- new one, those that lost images to it, and those holding images rewritten in place (a model's
-- flags or a reference's resolution changed). See image_groups_to_recount. loaded_at is when the
-- build that last counted the snapshot started (UTC).
-- depends_on: {{ ref('int_image_counts_by_last_seen') }}
{% set stale = image_groups_to_recount(
    total="sum(case when kind = 'all' then n_images else 0 end)",
    rewritten_in=[ref('int_images_made_with'), ref('image_resources')],
) %}

with images as (
    select * from {{ ref('int_images_made_with') }}
    {% if is_incremental() %}
    where {% if stale %}last_seen in ({{ stale | join(', ') }}){% else %}false{% endif %}
    {% endif %}
),

families as (  -- each image once per family of the resolved models it was made with
    select distinct image_id, base_model_family
    from {{ ref('image_resources') }}
    where resolution = 'resolved'
    {% if is_incremental() %}
        and {% if stale %}last_seen in ({{ stale | join(', ') }}){% else %}false{% endif %}
    {% endif %}
),

counts as (
    select
        last_seen,
        last_seen_version,
        month,
        'all' as kind,
        cast(null as {{ type_text() }}) as label,
        count(*) as n_images,
        sum(case when nsfw_strict then 1 else 0 end) as n_nsfw_images,
        sum(case when n_refs > 0 then 1 else 0 end) as n_with_resources,
        sum(resolved) as n_resolved,
        sum(made_with_real_person) as n_real_person,
        sum(made_with_declared) as n_real_person_declared,
        sum(made_with_tagged) as n_real_person_tagged,
        sum(made_with_name_match) as n_real_person_name_match,
        sum(made_with_hash_match) as n_real_person_hash_match,
        sum(case when made_with_real_person = 1 and nsfw_strict then 1 else 0 end) as n_real_person_nsfw_images,
        sum(made_with_nsfw_model) as n_nsfw_model,
        sum(n_refs) as n_refs,
        sum(n_refs_resolved) as n_refs_resolved,
        sum(n_refs_unknown_version) as n_refs_unknown_version,
        sum(n_refs_unknown_hash) as n_refs_unknown_hash,
        sum(n_refs_ambiguous_hash) as n_refs_ambiguous_hash,
        sum(n_refs_unindexed_hash) as n_refs_unindexed_hash,
        sum(n_refs_no_identifier) as n_refs_no_identifier
    from images
    group by last_seen, last_seen_version, month
    union all
    select
        images.last_seen,
        images.last_seen_version,
        images.month,
        'base_model_family',
        families.base_model_family,
        count(*),
        sum(case when images.nsfw_strict then 1 else 0 end),
        null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null
    from families
    inner join images on images.image_id = families.image_id
    group by images.last_seen, images.last_seen_version, images.month, families.base_model_family
)

select
    last_seen,
    last_seen_version,
    month,
    kind,
    label,
    cast(n_images as bigint) as n_images,
    cast(n_nsfw_images as bigint) as n_nsfw_images,
    cast(n_with_resources as bigint) as n_with_resources,
    cast(n_resolved as bigint) as n_resolved,
    cast(n_real_person as bigint) as n_real_person,
    cast(n_real_person_declared as bigint) as n_real_person_declared,
    cast(n_real_person_tagged as bigint) as n_real_person_tagged,
    cast(n_real_person_name_match as bigint) as n_real_person_name_match,
    cast(n_real_person_hash_match as bigint) as n_real_person_hash_match,
    cast(n_real_person_nsfw_images as bigint) as n_real_person_nsfw_images,
    cast(n_nsfw_model as bigint) as n_nsfw_model,
    cast(n_refs as bigint) as n_refs,
    cast(n_refs_resolved as bigint) as n_refs_resolved,
    cast(n_refs_unknown_version as bigint) as n_refs_unknown_version,
    cast(n_refs_unknown_hash as bigint) as n_refs_unknown_hash,
    cast(n_refs_ambiguous_hash as bigint) as n_refs_ambiguous_hash,
    cast(n_refs_unindexed_hash as bigint) as n_refs_unindexed_hash,
    cast(n_refs_no_identifier as bigint) as n_refs_no_identifier,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from counts
