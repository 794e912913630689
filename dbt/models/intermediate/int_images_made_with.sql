{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_images_of_replaced_snapshots() }}",
    stored_keys='image_may_be_stored',
    **incremental_by_item('image_id'),
) }}
-- One row per Civitai image ever seen: how many resource references its latest sighting carried,
-- how they resolved, and what kinds of model it was made with (1 when any resolved resource's
-- model is of that kind, by the `models` table's latest attributes; 0 otherwise).
-- A daily build rewrites only the images whose latest sighting changed (as `images` does) and the
-- images naming a reference key whose outcome changed since this table last wrote rows
-- (int_image_resource_kinds: a version or hash newly listed or now shared, a model whose
-- real-person or NSFW flags changed), not every image. loaded_at is when the build that last
-- rewrote the row started (UTC).
-- depends_on: {{ ref('int_snapshots') }}
-- depends_on: {{ ref('int_image_resource_kinds') }}
{% set load_from = reload_from('civitai_images', date_column='last_seen', version_column='last_seen_version') %}
{% set retaken = holds_images_seen_since(load_from) %}
{% set kinds_changed = resource_kinds_changed_since_written() %}

with images as (  -- the images to rewrite (all of them on a full refresh)
    select image_id, month, nsfw_any, nsfw_strict, last_seen, last_seen_version from {{ ref('images') }}
    {% if is_incremental() %}
    where {{ image_sighting_changed(load_from, retaken) }}
    {% if kinds_changed %}
        or image_id in (
            select resources.image_id
            from {{ ref('image_resources') }} as resources
            inner join {{ ref('int_image_resource_kinds') }} as kinds
                on kinds.ref_key = {{ resource_ref_key('resources.given_model_version_id', 'resources.hash_kind', 'resources.hash') }}
            where kinds.changed_at > (select max(loaded_at) from {{ this }})
        )
    {% endif %}
    {% endif %}
),

resources as (
    select * from {{ ref('image_resources') }}
    {% if is_incremental() %}
    where image_id in (select image_id from images)
    {% endif %}
),

models as (
    select * from {{ ref('models') }}
    where platform = 'civitai'
),

per_image as (
    select
        resources.image_id,
        count(*) as n_refs,
        sum(case when resources.resolution = 'resolved' then 1 else 0 end) as n_refs_resolved,
        sum(case when resources.resolution = 'unknown_version' then 1 else 0 end) as n_refs_unknown_version,
        sum(case when resources.resolution = 'unknown_hash' then 1 else 0 end) as n_refs_unknown_hash,
        sum(case when resources.resolution = 'ambiguous_hash' then 1 else 0 end) as n_refs_ambiguous_hash,
        sum(case when resources.resolution = 'unindexed_hash' then 1 else 0 end) as n_refs_unindexed_hash,
        sum(case when resources.resolution = 'no_identifier' then 1 else 0 end) as n_refs_no_identifier,
        max(case when models.real_person then 1 else 0 end) as made_with_real_person,
        max(case when models.real_person_declared then 1 else 0 end) as made_with_declared,
        max(case when models.real_person_tagged then 1 else 0 end) as made_with_tagged,
        max(case when models.real_person_name_match then 1 else 0 end) as made_with_name_match,
        max(case when models.real_person_hash_match then 1 else 0 end) as made_with_hash_match,
        max(case when models.nsfw_strict then 1 else 0 end) as made_with_nsfw_model
    from resources
    left join models
        on models.model_id = resources.model_id
        and resources.resolution = 'resolved'
    group by resources.image_id
)

select
    images.image_id,
    images.month,
    images.nsfw_any,
    images.nsfw_strict,
    coalesce(per_image.n_refs, 0) as n_refs,
    coalesce(per_image.n_refs_resolved, 0) as n_refs_resolved,
    coalesce(per_image.n_refs_unknown_version, 0) as n_refs_unknown_version,
    coalesce(per_image.n_refs_unknown_hash, 0) as n_refs_unknown_hash,
    coalesce(per_image.n_refs_ambiguous_hash, 0) as n_refs_ambiguous_hash,
    coalesce(per_image.n_refs_unindexed_hash, 0) as n_refs_unindexed_hash,
    coalesce(per_image.n_refs_no_identifier, 0) as n_refs_no_identifier,
    case when coalesce(per_image.n_refs_resolved, 0) > 0 then 1 else 0 end as resolved,
    coalesce(per_image.made_with_real_person, 0) as made_with_real_person,
    coalesce(per_image.made_with_declared, 0) as made_with_declared,
    coalesce(per_image.made_with_tagged, 0) as made_with_tagged,
    coalesce(per_image.made_with_name_match, 0) as made_with_name_match,
    coalesce(per_image.made_with_hash_match, 0) as made_with_hash_match,
    coalesce(per_image.made_with_nsfw_model, 0) as made_with_nsfw_model,
    images.last_seen,
    images.last_seen_version,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from images
left join per_image on per_image.image_id = images.image_id
