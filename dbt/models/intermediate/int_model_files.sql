{{ config(materialized='view') }}
-- Every file of every model per snapshot, both platforms, with whether it is one of the model's
-- own weight files under the hash-tier rules (a view: filters on snapshot_date and sha256 reach
-- the Parquet scans). Files without a SHA-256 cannot match and are left out.
with civitai as (
    select
        'civitai' as platform,
        cast(model_id as {{ type_text() }}) as model_id,
        snapshot_date,
        version_id,
        file_id,
        file_name,
        file_type,
        sha256
    from {{ ref('stg_civitai__model_files') }}
    where sha256 is not null
),

huggingface as (
    select
        'huggingface' as platform,
        model_id,
        snapshot_date,
        cast(null as bigint) as version_id,
        cast(null as bigint) as file_id,
        rfilename as file_name,
        cast(null as {{ type_text() }}) as file_type,  -- the Hub has no file types: the extension decides
        sha256
    from {{ ref('stg_huggingface__model_files') }}
    where sha256 is not null
),

files as (
    select * from civitai
    union all
    select * from huggingface
)

select
    files.*,
    coalesce(types.is_weight, files.file_type is null and extensions.extension is not null) as is_weight
from files
left join {{ ref('rules_civitai_file_types') }} as types on types.file_type = files.file_type
left join {{ ref('rules_weight_file_extensions') }} as extensions
    on extensions.extension = {{ file_extension('files.file_name') }}
