-- Every Civitai model version a complete models snapshot listed, with its model and its latest
-- base model: what an image's version id resolves to.
with versions as (
    select * from {{ ref('stg_civitai__model_versions') }}
),

families as (
    select * from {{ ref('rules_base_model_families') }}
),

ranked as (
    select
        version_id,
        model_id,
        base_model,
        row_number() over (partition by version_id order by snapshot_date desc, model_id) as recency
    from versions
)

select
    ranked.version_id,
    ranked.model_id,
    ranked.base_model,
    coalesce(families.family, 'other') as base_model_family
from ranked
left join families on families.base_model = ranked.base_model
where ranked.recency = 1
