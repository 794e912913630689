-- Hugging Face repos holding one of a Civitai model version's own weight files, byte-identical
-- (same SHA-256): re-uploads across platforms, e.g. after Civitai's 2025-05-22 real-person ban.
-- A file shared in any snapshot of either platform (see the hash_tier_rules docs) is no evidence
-- of a re-upload and is left out; the matching file's ids and names are kept.
with hf_files as (
    select model_id, snapshot_date, sha256, file_name, is_weight
    from {{ ref('int_model_files') }}
    where platform = 'huggingface'
),

hf_weights as (
    select model_id, sha256, min(file_name) as file_name
    from hf_files
    where is_weight
    group by all
),

civitai_files as (  -- only hashes Hugging Face holds: the runs over those, not every file of every snapshot
    select model_id, snapshot_date, version_id, file_id, file_name, sha256, is_weight
    from {{ ref('int_model_files') }}
    where platform = 'civitai' and sha256 in (select sha256 from hf_weights)
),

carriers as (  -- both platforms' files with those hashes, per snapshot
    select 'huggingface' as platform, model_id, snapshot_date, sha256, is_weight
    from hf_files
    where sha256 in (select sha256 from civitai_files)
    union all
    select 'civitai', model_id, snapshot_date, sha256, is_weight from civitai_files
),

shared as (select distinct sha256 from ({{ shared_files('carriers') }})),

civitai_weights as (
    select model_id, version_id, sha256, min(file_id) as file_id, min(file_name) as file_name
    from civitai_files
    where is_weight and sha256 not in (select sha256 from shared)
    group by all
),

pairs as (
    select
        hf_weights.model_id as hf_model_id,
        civitai_weights.version_id as civitai_version_id,
        civitai_weights.model_id as civitai_model_id,
        hf_weights.sha256,
        civitai_weights.file_id as civitai_file_id,
        civitai_weights.file_name as civitai_file_name,
        hf_weights.file_name as hf_file_name
    from hf_weights
    inner join civitai_weights using (sha256)
),

matches as (  -- one row per repo and version: the smallest matching hash, and its file
    select
        hf_model_id,
        civitai_version_id,
        {{ dbt.any_value('civitai_model_id') }} as civitai_model_id,
        min(sha256) as sha256,
        {{ arg_min('civitai_file_id', 'sha256') }} as civitai_file_id,
        {{ arg_min('civitai_file_name', 'sha256') }} as civitai_file_name,
        {{ arg_min('hf_file_name', 'sha256') }} as hf_file_name,
        count(distinct sha256) as n_matching_files
    from pairs
    group by hf_model_id, civitai_version_id
)

select
    matches.hf_model_id,
    matches.civitai_version_id,
    matches.civitai_model_id,
    matches.sha256,
    civitai.real_person as civitai_real_person,
    hf.first_seen as hf_first_seen,
    matches.civitai_file_id,
    matches.civitai_file_name,
    matches.hf_file_name,
    matches.n_matching_files
from matches
inner join {{ ref('models') }} as civitai
    on civitai.platform = 'civitai' and civitai.model_id = matches.civitai_model_id
inner join {{ ref('models') }} as hf
    on hf.platform = 'huggingface' and hf.model_id = matches.hf_model_id
