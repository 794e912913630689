-- Every Civitai model version a complete models snapshot listed, with its model and its latest
-- base model: what an image's version id resolves to. The last sighting of each version is kept
-- in int_civitai__versions_last_seen, which a daily build updates from the new snapshot alone.
with versions as (
    select version_id, model_id, base_model from {{ ref('int_civitai__versions_last_seen') }}
),

families as (
    select * from {{ ref('rules_base_model_families') }}
)

select
    versions.version_id,
    versions.model_id,
    versions.base_model,
    coalesce(families.family, 'other') as base_model_family
from versions
left join families on families.base_model = versions.base_model
