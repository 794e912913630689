-- What Civitai images were made with, by the month they were created: how many say (coverage),
-- how many name a model hubwatch knows, and how many were made with real-person models (each
-- tier) and with NSFW models. Shares of kinds are over the images with a resolved resource.
-- The images come already counted per snapshot they were last seen in (int_image_made_with_counts).
with counts as (
    select
        month,
        sum(n_images) as n_images,
        sum(n_with_resources) as n_with_resources,
        sum(n_resolved) as n_resolved,
        sum(n_real_person) as n_real_person,
        sum(n_real_person_declared) as n_real_person_declared,
        sum(n_real_person_tagged) as n_real_person_tagged,
        sum(n_real_person_name_match) as n_real_person_name_match,
        sum(n_real_person_hash_match) as n_real_person_hash_match,
        sum(n_real_person_nsfw_images) as n_real_person_nsfw_images,
        sum(n_nsfw_model) as n_nsfw_model,
        sum(n_nsfw_images) as n_nsfw_images,
        sum(n_refs) as n_refs,
        sum(n_refs_resolved) as n_refs_resolved,
        sum(n_refs_unknown_version) as n_refs_unknown_version,
        sum(n_refs_unknown_hash) as n_refs_unknown_hash,
        sum(n_refs_ambiguous_hash) as n_refs_ambiguous_hash,
        sum(n_refs_unindexed_hash) as n_refs_unindexed_hash,
        sum(n_refs_no_identifier) as n_refs_no_identifier
    from {{ ref('int_image_made_with_counts') }}
    where kind = 'all' and month is not null
    group by month
)

select
    'civitai' as platform,
    month,
    cast(n_images as bigint) as n_images,
    cast(n_with_resources as bigint) as n_with_resources,
    cast(n_resolved as bigint) as n_resolved,
    cast(n_real_person as bigint) as n_real_person,
    cast(n_real_person_declared as bigint) as n_real_person_declared,
    cast(n_real_person_tagged as bigint) as n_real_person_tagged,
    cast(n_real_person_name_match as bigint) as n_real_person_name_match,
    cast(n_real_person_hash_match as bigint) as n_real_person_hash_match,
    cast(n_real_person_nsfw_images as bigint) as n_real_person_nsfw_images,
    cast(n_nsfw_model as bigint) as n_nsfw_model,
    cast(n_nsfw_images as bigint) as n_nsfw_images,
    cast(n_refs as bigint) as n_refs,
    cast(n_refs_resolved as bigint) as n_refs_resolved,
    cast(n_refs_unknown_version as bigint) as n_refs_unknown_version,
    cast(n_refs_unknown_hash as bigint) as n_refs_unknown_hash,
    cast(n_refs_ambiguous_hash as bigint) as n_refs_ambiguous_hash,
    cast(n_refs_unindexed_hash as bigint) as n_refs_unindexed_hash,
    cast(n_refs_no_identifier as bigint) as n_refs_no_identifier,
    cast(n_with_resources as double) / n_images as share_with_resources,
    cast(n_resolved as double) / n_images as share_resolved,
    case when n_resolved > 0 then cast(n_real_person as double) / n_resolved end as share_real_person,
    case when n_resolved > 0 then cast(n_nsfw_model as double) / n_resolved end as share_nsfw_model
from counts
