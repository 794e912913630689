-- Every model ever seen with its engagement counters: downloads at its last sighting (the monthly
-- tables' "latest attributes", as in models.downloads_total) on both platforms; thumbs up,
-- favourites and comments (Civitai) and likes (Hugging Face) from the last sighting that counted
-- them. A counter its platform or API generation does not count is null, never 0: Civitai's
-- favourites come only from answers of the 2023 generation (macro civitai_favourites), so a model
-- last seen in 2025 keeps the favourites a 2023 snapshot counted. The counters are kept per model
-- in int_model_counters, which a daily build updates from the new snapshot alone.
with models as (
    select platform, model_id, last_seen, month, real_person, nsfw_strict, downloads_total
    from {{ ref('models') }}
),

counters as (
    select platform, model_id, thumbs_up, favourites, comments, likes from {{ ref('int_model_counters') }}
)

select
    models.platform,
    models.model_id,
    models.last_seen,
    models.month,
    models.real_person,
    models.nsfw_strict,
    models.downloads_total as downloads,
    counters.thumbs_up,
    counters.favourites,
    counters.comments,
    counters.likes
from models
left join counters on counters.platform = models.platform and counters.model_id = models.model_id
