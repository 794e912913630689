-- Civitai images by the base-model family of the models they were made with, by creation month.
-- An image made with models of two families (an SDXL checkpoint and a Pony LoRA) counts in each.
with images as (
    select image_id, month, nsfw_strict, resolved from {{ ref('int_images_made_with') }}
    where month is not null
),

families as (
    select distinct image_id, base_model_family
    from {{ ref('image_resources') }}
    where resolution = 'resolved'
),

resolved_per_month as (
    select month, sum(resolved) as n_resolved
    from images
    group by month
),

counts as (
    select
        images.month,
        families.base_model_family,
        count(*) as n_images,
        sum(case when images.nsfw_strict then 1 else 0 end) as n_nsfw_images
    from families
    inner join images on images.image_id = families.image_id
    group by images.month, families.base_model_family
)

select
    'civitai' as platform,
    counts.month,
    counts.base_model_family,
    cast(counts.n_images as bigint) as n_images,
    cast(counts.n_nsfw_images as bigint) as n_nsfw_images,
    cast(counts.n_images as double) / resolved_per_month.n_resolved as share
from counts
inner join resolved_per_month on resolved_per_month.month = counts.month
