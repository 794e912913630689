-- Civitai model versions per snapshot; created_at is createdAt (2023 shape) or publishedAt.
with source as (  -- one row per version and snapshot (a version listed under two models: the first)
    select *, row_number() over (partition by snapshot_date, version_id order by model_id) as nth_listing
    from ({{ stored_rows('civitai_model_versions', ['model_id', 'version_id', 'name', 'base_model', 'nsfw_level', 'trained_words', 'download_count', 'created_at', 'published_at']) }}) as raw_versions
)

select
    snapshot_date,
    model_id,
    version_id,
    name as version_name,
    base_model,
    nsfw_level,
    coalesce(trained_words, {{ empty_list() }}) as trained_words,
    download_count,
    coalesce(created_at, published_at) as created_at
from source
where nth_listing = 1
