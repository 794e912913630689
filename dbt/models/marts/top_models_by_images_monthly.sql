-- The Civitai models the most images were made with, by the images' creation month (the top
-- 20; ties broken by model id). Names are left out: join `models` on model_id for them.
with images as (
    select image_id, month, nsfw_strict from {{ ref('int_images_made_with') }}
    where month is not null
),

used as (
    select distinct image_id, model_id
    from {{ ref('image_resources') }}
    where resolution = 'resolved'
),

models as (
    select * from {{ ref('models') }}
    where platform = 'civitai'
),

counts as (
    select
        images.month,
        used.model_id,
        count(*) as n_images,
        sum(case when images.nsfw_strict then 1 else 0 end) as n_nsfw_images
    from used
    inner join images on images.image_id = used.image_id
    group by images.month, used.model_id
),

ranked as (
    select
        counts.*,
        row_number() over (partition by counts.month order by counts.n_images desc, counts.model_id) as model_rank
    from counts
)

select
    'civitai' as platform,
    ranked.month,
    cast(ranked.model_rank as bigint) as model_rank,
    ranked.model_id,
    cast(ranked.n_images as bigint) as n_images,
    cast(ranked.n_nsfw_images as bigint) as n_nsfw_images,
    models.model_type,
    models.base_model_family,
    models.real_person,
    models.nsfw_strict
from ranked
left join models on models.model_id = ranked.model_id
where ranked.model_rank <= 20
