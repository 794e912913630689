-- Base-model families of models by creation month.
with counts as (
    select platform, month, base_model_family, count(*) as n_models
    from {{ ref('models') }}
    where month is not null
    group by platform, month, base_model_family
)

select
    platform,
    month,
    base_model_family,
    n_models,
    n_models / sum(n_models) over (partition by platform, month) as share
from counts
