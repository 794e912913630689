-- The term families each Civitai image's prompt holds (its latest sighting's prompt; the negative
-- prompt never counts): one row per image and family. No prompt text leaves this model.
with images as (
    select image_id, last_seen from {{ ref('images') }}
),

prompts as (
    select prompts.image_id, prompts.prompt
    from {{ ref('stg_civitai__image_prompts') }} as prompts
    inner join images
        on images.image_id = cast(prompts.image_id as varchar)
        and images.last_seen = prompts.snapshot_date
    where prompts.prompt is not null
),

terms as (  -- one alternation per family (rules_prompt_terms' patterns, combined by ingest.prompt_terms)
    select family, pattern from {{ ref('rules_prompt_family_patterns') }}
)

select distinct
    cast(prompts.image_id as varchar) as image_id,
    terms.family
from prompts
inner join terms
    on {{ prompt_matches('prompts.prompt', 'terms.pattern') }}
