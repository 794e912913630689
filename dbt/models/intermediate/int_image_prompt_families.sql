-- The term families each Civitai image's prompt holds (its latest sighting's prompt; the negative
-- prompt never counts): one row per image and family. No prompt text leaves this model. The
-- patterns are constants from the macro prompt_family_patterns (generated from the seed
-- rules_prompt_terms): a pattern read from a table would be compiled again for every row.
{% set families = prompt_family_patterns() %}

with images as (
    select image_id, last_seen from {{ ref('images') }}
),

prompts as (
    select prompts.image_id, prompts.prompt
    from {{ ref('stg_civitai__image_prompts') }} as prompts
    inner join images
        on images.image_id = cast(prompts.image_id as {{ type_text() }})
        and images.last_seen = prompts.snapshot_date
    where prompts.prompt is not null
)

{% for family, pattern in families %}
select cast(prompts.image_id as {{ type_text() }}) as image_id, {{ sql_string(family) }} as family
from prompts
where {{ prompt_matches('prompts.prompt', sql_string(pattern)) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
