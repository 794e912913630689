-- Files of Hugging Face repos (LoRA candidates) per snapshot, with their LFS SHA-256.
with source as (  -- one row per file and snapshot (nulls last: DuckDB's default, not Spark's)
    select *, row_number() over (partition by snapshot_date, model_id, rfilename order by sha256 nulls last) as nth_listing
    from ({{ stored_rows('hf_model_files', ['model_id', 'rfilename', 'size', 'sha256']) }}) as raw_files
)

select
    snapshot_date,
    model_id,
    rfilename,
    size as size_bytes,
    lower(sha256) as sha256
from source
where nth_listing = 1
