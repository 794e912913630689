-- Hugging Face repos holding a file byte-identical (same SHA-256) to a Civitai model version's
-- file: re-uploads across platforms, e.g. after Civitai's 2025-05-22 real-person ban.
with hf_files as (
    select distinct model_id, sha256 from {{ ref('stg_huggingface__model_files') }} where sha256 is not null
),

civitai_files as (  -- only hashes Hugging Face holds: the distinct runs over those, not every file of every snapshot
    select distinct model_id, version_id, sha256
    from {{ ref('stg_civitai__model_files') }}
    where sha256 in (select sha256 from hf_files)
)

select
    hf_files.model_id as hf_model_id,
    civitai_files.version_id as civitai_version_id,
    any_value(cast(civitai_files.model_id as varchar)) as civitai_model_id,
    min(hf_files.sha256) as sha256,
    any_value(civitai.real_person) as civitai_real_person,
    any_value(hf.first_seen) as hf_first_seen
from hf_files
inner join civitai_files using (sha256)
inner join {{ ref('models') }} as civitai
    on civitai.platform = 'civitai' and civitai.model_id = cast(civitai_files.model_id as varchar)
inner join {{ ref('models') }} as hf
    on hf.platform = 'huggingface' and hf.model_id = hf_files.model_id
group by hf_files.model_id, civitai_files.version_id
