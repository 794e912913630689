-- One row per creator (salted hash) per platform: what they published, and whether they kept
-- publishing real-person models after Civitai's ban (macro real_person_ban_date): on the same
-- platform (models created on or after it), or, for a Civitai creator, through Hugging Face repos
-- created on or after it that hold one of their real-person models' own weight files
-- (cross_platform_matches: byte-identical, never a shared file). The hash proves the file, not who
-- uploaded it.
with models as (
    select * from {{ ref('models') }} where creator_hash is not null
),

published as (
    select
        platform,
        creator_hash,
        count(*) as n_models,
        cast(sum(case when real_person then 1 else 0 end) as bigint) as n_real_person,
        cast(sum(case when nsfw_strict then 1 else 0 end) as bigint) as n_nsfw,
        count(downloads_total) as n_with_downloads,
        cast(sum(downloads_total) as bigint) as downloads_total,
        min(month) as first_month,
        max(month) as last_month,
        cast(sum(
            case when real_person and cast(created_at as date) < {{ real_person_ban_date() }} then 1 else 0 end
        ) as bigint) as n_real_person_before_ban,
        cast(sum(
            case when real_person and cast(created_at as date) >= {{ real_person_ban_date() }} then 1 else 0 end
        ) as bigint) as n_real_person_after_ban
    from models
    group by platform, creator_hash
),

reuploads as (
    select
        civitai.creator_hash,
        count(distinct matches.hf_model_id) as n_reuploads_after_ban,
        count(distinct hf.creator_hash) as n_reupload_accounts_after_ban
    from {{ ref('cross_platform_matches') }} as matches
    inner join models as civitai
        on civitai.platform = 'civitai' and civitai.model_id = matches.civitai_model_id
    inner join {{ ref('models') }} as hf
        on hf.platform = 'huggingface' and hf.model_id = matches.hf_model_id
    where matches.civitai_real_person and cast(hf.created_at as date) >= {{ real_person_ban_date() }}
    group by civitai.creator_hash
)

select
    published.platform,
    published.creator_hash,
    published.n_models,
    published.n_real_person,
    published.n_nsfw,
    published.n_with_downloads,
    published.downloads_total,
    published.first_month,
    published.last_month,
    published.n_real_person_before_ban,
    published.n_real_person_after_ban,
    case when published.platform = 'civitai' then coalesce(reuploads.n_reuploads_after_ban, 0) end
        as n_reuploads_after_ban,
    case when published.platform = 'civitai' then coalesce(reuploads.n_reupload_accounts_after_ban, 0) end
        as n_reupload_accounts_after_ban,
    published.n_real_person_before_ban > 0
    and (published.n_real_person_after_ban > 0 or coalesce(reuploads.n_reuploads_after_ban, 0) > 0)
        as continued_after_ban
from published
left join reuploads
    on published.platform = 'civitai' and reuploads.creator_hash = published.creator_hash
