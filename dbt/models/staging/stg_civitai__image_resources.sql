-- What each Civitai image item says it was made with, per snapshot: one row per reference, in
-- the item's order, as the normaliser read it (nothing resolved, nothing dropped).
with source as (
    select * from {{ source('raw', 'civitai_image_resources') }}
)

select
    snapshot_date,
    image_id,
    position,
    source as ref_source,
    model_version_id,
    lower(hash) as hash,
    hash_kind,
    resource_name,
    resource_type,
    weight
from source
