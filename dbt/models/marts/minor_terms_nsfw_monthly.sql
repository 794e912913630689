-- Co-occurrence of minor-coded prompt terms with NSFW ratings, by the month Civitai images were
-- created: how many images with a prompt hold minor-coded terms, and how many of those are rated
-- NSFW (R and above) or explicit (X, XXX). Counts only.
-- The images come already counted per snapshot they were last seen in (int_image_prompt_counts).
with counts as (
    select
        month,
        sum(n_images) as n_images,
        sum(n_with_prompt) as n_with_prompt,
        sum(n_nsfw_with_prompt) as n_nsfw_with_prompt,
        sum(n_minor_coded) as n_minor_coded,
        sum(n_minor_coded_nsfw) as n_minor_coded_nsfw,
        sum(n_minor_coded_explicit) as n_minor_coded_explicit
    from {{ ref('int_image_prompt_counts') }}
    where month is not null
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
