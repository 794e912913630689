-- Civitai image prompts per snapshot, normalised by ingest (lower case, `_` as a space). Internal:
-- no public table selects them; the marts count term families only.
with source as (
    select * from {{ source('raw', 'civitai_image_prompts') }}
)

select
    snapshot_date,
    image_id,
    prompt,
    negative_prompt
from source
