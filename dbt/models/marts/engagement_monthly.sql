-- Engagement by creation month, for real-person vs other models and NSFW (R and above) vs SFW
-- models: each counter at the model's last sighting, with how many models have it (a counter the
-- platform or its API generation does not count is null, never 0), its total, mean and median.
{% set counters = ['downloads', 'thumbs_up', 'favourites', 'comments', 'likes'] %}
with models as (
    select * from {{ ref('int_model_engagement') }}
    where month is not null
),

splits as (
    select platform, month, 'real_person' as split, real_person as flagged,
        downloads, thumbs_up, favourites, comments, likes
    from models
    union all
    select platform, month, 'nsfw' as split, nsfw_strict as flagged,
        downloads, thumbs_up, favourites, comments, likes
    from models
)

select
    platform,
    month,
    split,
    flagged,
    count(*) as n_models
    {%- for c in counters %},
    count({{ c }}) as n_{{ c }},
    cast(sum({{ c }}) as bigint) as total_{{ c }},
    {{ ratio('sum(' ~ c ~ ')', 'count(' ~ c ~ ')') }} as mean_{{ c }},
    {{ quantile_cont(c, 0.5) }} as median_{{ c }}
    {%- endfor %}
from splits
group by platform, month, split, flagged
