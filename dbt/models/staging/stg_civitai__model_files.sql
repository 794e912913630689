-- Files of Civitai model versions per snapshot, with their SHA-256 (lower-case hex). One row per
-- file and snapshot: the normaliser keeps one (no window here, so a filter on sha256 reaches the scan).
with source as (
    select * from ({{ stored_rows('civitai_model_files', ['model_id', 'version_id', 'file_id', 'name', 'type', 'is_primary', 'sha256']) }}) as raw_files
)

select
    snapshot_date,
    model_id,
    version_id,
    file_id,
    name as file_name,
    type as file_type,
    is_primary,
    lower(sha256) as sha256
from source
