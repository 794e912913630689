-- Hugging Face models per snapshot (downloads: 30-day count and all-time count).
with source as (  -- one row per repo and snapshot: its latest modification
    select *, row_number() over (partition by snapshot_date, model_id order by last_modified desc nulls last) as nth_listing
    from ({{ stored_rows('hf_models', ['model_id', 'author', 'created_at', 'last_modified', 'downloads_30d', 'downloads_all_time', 'likes', 'tags', 'pipeline_tag', 'base_models', 'sha']) }}) as raw_models
)

select
    snapshot_date,
    model_id,
    author,
    created_at,
    last_modified,
    downloads_30d,
    downloads_all_time,
    likes,
    {{ list_transform('coalesce(tags, ' ~ empty_list() ~ ')', 't', 'lower(t)') }} as tags,
    pipeline_tag,
    coalesce(base_models, {{ empty_list() }}) as base_models,
    sha as repo_sha
from source
where nth_listing = 1
