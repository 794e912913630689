-- Files of Hugging Face repos (LoRA candidates) per snapshot, with their LFS SHA-256.
with source as (
    select * from {{ source('raw', 'hf_model_files') }}
)

select
    snapshot_date,
    model_id,
    rfilename,
    size as size_bytes,
    lower(sha256) as sha256
from source
qualify row_number() over (partition by snapshot_date, model_id, rfilename order by sha256) = 1
