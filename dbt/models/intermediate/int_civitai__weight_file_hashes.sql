-- The hashes an image's metadata may name a model by (SHA-256, and AutoV2: its first 10 hex),
-- of the weight files of every version a complete models snapshot listed. A hash carried by
-- more than one version (a re-upload, a copied file) names none of them: version_id is null
-- and n_versions says how many shared it. VAEs, configs and other non-weight files are left out
-- (rules_civitai_file_types), so an image's VAE hash never stands for a checkpoint that ships it.
-- The files ever listed are kept in int_civitai__file_hashes_seen, which a daily build updates
-- from the new snapshot alone.
with files as (
    select distinct files.version_id, files.sha256
    from {{ ref('int_civitai__file_hashes_seen') }} as files
    inner join {{ ref('rules_civitai_file_types') }} as types
        on types.file_type = files.file_type
    where types.is_weight
),

keyed as (
    select 'sha256' as hash_kind, sha256 as hash, version_id from files
    union all
    select 'autov2' as hash_kind, substr(sha256, 1, 10) as hash, version_id from files
)

select
    hash_kind,
    hash,
    count(distinct version_id) as n_versions,
    case when count(distinct version_id) = 1 then min(version_id) end as version_id
from keyed
group by hash_kind, hash
