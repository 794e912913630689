-- The engagement counters of Civitai models per snapshot, as the API gave them (every counter
-- nullable: a model minutes old, a creator hiding its downloads, a generation of the API that does
-- not count it). One row per model and snapshot: the same row stg_civitai__models keeps.
with source as (
    select
        snapshot_date,
        model_id,
        download_count,
        thumbs_up_count,
        favorite_count,
        comment_count,
        row_number() over (
            partition by snapshot_date, model_id order by last_version_at desc nulls last
        ) as sighting
    from ({{ stored_rows('civitai_models', ['model_id', 'download_count', 'thumbs_up_count', 'favorite_count', 'comment_count', 'last_version_at']) }}) as raw_models
)

select
    snapshot_date,
    model_id,
    download_count,
    thumbs_up_count,
    favorite_count,
    comment_count
from source
where sighting = 1
