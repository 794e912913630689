-- Civitai images by the base-model family of the models they were made with, by creation month.
-- An image made with models of two families (an SDXL checkpoint and a Pony LoRA) counts in each.
-- The images come already counted per snapshot they were last seen in (int_image_made_with_counts).
with counts as (
    select * from {{ ref('int_image_made_with_counts') }}
    where month is not null
),

resolved_per_month as (
    select month, sum(n_resolved) as n_resolved
    from counts
    where kind = 'all'
    group by month
),

families as (
    select
        month,
        label as base_model_family,
        sum(n_images) as n_images,
        sum(n_nsfw_images) as n_nsfw_images
    from counts
    where kind = 'base_model_family'
    group by month, label
)

select
    'civitai' as platform,
    families.month,
    families.base_model_family,
    cast(families.n_images as bigint) as n_images,
    cast(families.n_nsfw_images as bigint) as n_nsfw_images,
    cast(families.n_images as double) / resolved_per_month.n_resolved as share
from families
inner join resolved_per_month on resolved_per_month.month = families.month
