-- One row per Civitai image ever seen: whether its latest sighting had a prompt, its NSFW tiers,
-- and (1/0) whether the prompt holds minor-coded terms: a Civitai minor noun, or a minor adjective
-- together with a partial noun (`young` with `girl`), as Civitai's own check combines them.
with images as (
    select image_id, month, nsfw_strict, nsfw_explicit, last_seen from {{ ref('images') }}
),

prompted as (
    select distinct cast(prompts.image_id as {{ type_text() }}) as image_id
    from {{ ref('stg_civitai__image_prompts') }} as prompts
    inner join images
        on images.image_id = cast(prompts.image_id as {{ type_text() }})
        and images.last_seen = prompts.snapshot_date
    where prompts.prompt is not null
),

families as (
    select
        image_id,
        max(case when family = 'civitai_minor_nouns' then 1 else 0 end) as has_minor_noun,
        max(case when family = 'civitai_minor_adjectives' then 1 else 0 end) as has_minor_adjective,
        max(case when family = 'civitai_minor_partial_nouns' then 1 else 0 end) as has_partial_noun
    from {{ ref('int_image_prompt_families') }}
    group by image_id
)

select
    images.image_id,
    images.month,
    images.nsfw_strict,
    images.nsfw_explicit,
    case when prompted.image_id is not null then 1 else 0 end as has_prompt,
    case
        when families.has_minor_noun = 1 then 1
        when families.has_minor_adjective = 1 and families.has_partial_noun = 1 then 1
        else 0
    end as minor_coded
from images
left join prompted on prompted.image_id = images.image_id
left join families on families.image_id = images.image_id
