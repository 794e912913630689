-- Shares of Civitai images (and of NSFW images) whose prompts hold each term family, by the month
-- the images were created. Over images with a prompt; counts only (prompts are never published).
with images as (
    select * from {{ ref('int_images_prompted') }}
    where month is not null and has_prompt = 1
),

families as (
    select * from {{ ref('int_image_prompt_families') }}
),

totals as (
    select
        month,
        count(*) as n_with_prompt,
        sum(case when nsfw_strict then 1 else 0 end) as n_nsfw_with_prompt
    from images
    group by month
),

counts as (
    select
        images.month,
        families.family,
        count(*) as n_images,
        sum(case when images.nsfw_strict then 1 else 0 end) as n_nsfw_images
    from families
    inner join images on images.image_id = families.image_id
    group by images.month, families.family
)

select
    'civitai' as platform,
    counts.month,
    counts.family,
    cast(counts.n_images as bigint) as n_images,
    cast(counts.n_nsfw_images as bigint) as n_nsfw_images,
    cast(totals.n_with_prompt as bigint) as n_with_prompt,
    cast(totals.n_nsfw_with_prompt as bigint) as n_nsfw_with_prompt,
    cast(counts.n_images as double) / totals.n_with_prompt as share,
    case
        when totals.n_nsfw_with_prompt > 0 then cast(counts.n_nsfw_images as double) / totals.n_nsfw_with_prompt
    end as share_of_nsfw
from counts
inner join totals on totals.month = counts.month
