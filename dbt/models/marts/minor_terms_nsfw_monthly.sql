-- Co-occurrence of minor-coded prompt terms with NSFW ratings, by the month Civitai images were
-- created: how many images with a prompt hold minor-coded terms, and how many of those are rated
-- NSFW (R and above) or explicit (X, XXX). Counts only.
with images as (
    select * from {{ ref('int_images_prompted') }}
    where month is not null
),

counts as (
    select
        month,
        count(*) as n_images,
        sum(has_prompt) as n_with_prompt,
        sum(case when has_prompt = 1 and nsfw_strict then 1 else 0 end) as n_nsfw_with_prompt,
        sum(minor_coded) as n_minor_coded,
        sum(case when minor_coded = 1 and nsfw_strict then 1 else 0 end) as n_minor_coded_nsfw,
        sum(case when minor_coded = 1 and nsfw_explicit then 1 else 0 end) as n_minor_coded_explicit
    from images
    group by month
)

select
    'civitai' as platform,
    month,
    cast(n_images as bigint) as n_images,
    cast(n_with_prompt as bigint) as n_with_prompt,
    cast(n_nsfw_with_prompt as bigint) as n_nsfw_with_prompt,
    cast(n_minor_coded as bigint) as n_minor_coded,
    cast(n_minor_coded_nsfw as bigint) as n_minor_coded_nsfw,
    cast(n_minor_coded_explicit as bigint) as n_minor_coded_explicit,
    cast(n_with_prompt as double) / n_images as share_with_prompt,
    case when n_minor_coded > 0 then cast(n_minor_coded_nsfw as double) / n_minor_coded end as share_nsfw_of_minor_coded
from counts
