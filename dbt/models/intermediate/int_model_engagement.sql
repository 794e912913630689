-- Every model ever seen with its engagement counters: downloads at its last sighting (the monthly
-- tables' "latest attributes", as in models.downloads_total) on both platforms; thumbs up,
-- favourites and comments (Civitai) and likes (Hugging Face) from the last sighting that counted
-- them. A counter its platform or API generation does not count is null, never 0: Civitai's
-- favourites come only from answers of the 2023 generation (macro civitai_favourites), so a model
-- last seen in 2025 keeps the favourites a 2023 snapshot counted.
{% set civitai_counters = ['thumbs_up_count', 'favourites', 'comment_count'] %}
with models as (
    select platform, model_id, last_seen, month, real_person, nsfw_strict, downloads_total
    from {{ ref('models') }}
),

civitai_stats as (
    select
        snapshot_date,
        cast(model_id as {{ type_text() }}) as model_id,
        thumbs_up_count,
        {{ civitai_favourites('favorite_count', 'thumbs_up_count') }} as favourites,
        comment_count
    from {{ ref('stg_civitai__model_stats') }}
),
{% for counter in civitai_counters %}
last_{{ counter }} as (  -- the counter at the last sighting that counted it
    select civitai_stats.model_id, civitai_stats.{{ counter }}
    from civitai_stats
    inner join (
        select model_id, max(snapshot_date) as snapshot_date
        from civitai_stats
        where {{ counter }} is not null
        group by model_id
    ) as last
        on last.model_id = civitai_stats.model_id and last.snapshot_date = civitai_stats.snapshot_date
),
{% endfor %}
huggingface as (
    select stats.model_id, stats.likes
    from {{ ref('stg_huggingface__models') }} as stats
    inner join (
        select model_id, max(snapshot_date) as snapshot_date
        from {{ ref('stg_huggingface__models') }}
        where likes is not null
        group by model_id
    ) as last
        on last.model_id = stats.model_id and last.snapshot_date = stats.snapshot_date
)

select
    models.platform,
    models.model_id,
    models.last_seen,
    models.month,
    models.real_person,
    models.nsfw_strict,
    models.downloads_total as downloads,
    last_thumbs_up_count.thumbs_up_count as thumbs_up,
    last_favourites.favourites,
    last_comment_count.comment_count as comments,
    huggingface.likes
from models
left join last_thumbs_up_count
    on models.platform = 'civitai' and last_thumbs_up_count.model_id = models.model_id
left join last_favourites
    on models.platform = 'civitai' and last_favourites.model_id = models.model_id
left join last_comment_count
    on models.platform = 'civitai' and last_comment_count.model_id = models.model_id
left join huggingface
    on models.platform = 'huggingface' and huggingface.model_id = models.model_id
