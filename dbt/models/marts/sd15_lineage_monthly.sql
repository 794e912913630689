-- The SD 1.5 lineage by creation month (int_sd15_lineage_models, seed rules_sd15_lineage): models
-- created each month that are built on SD 1.5, a mirror or a named derivative (or, on Hugging Face,
-- are one of those repos), how many of them the latest snapshot of their source still lists, and
-- their downloads (each model's counter at its last sighting), beside all models created that month.
with models as (
    select
        models.platform,
        models.month,
        models.removed_on,
        models.downloads_total,
        lineage.relation,
        lineage.is_named,
        lineage.model_id is not null as in_lineage
    from {{ ref('models') }} as models
    left join {{ ref('int_sd15_lineage_models') }} as lineage
        on lineage.platform = models.platform and lineage.model_id = models.model_id
    where models.month is not null
)

select
    platform,
    month,
    count(*) as n_all_models,
    cast(sum(case when in_lineage then 1 else 0 end) as bigint) as n_models,
    {{ ratio('sum(case when in_lineage then 1 else 0 end)', 'count(*)') }} as share_of_new_models,
    cast(sum(case when in_lineage and is_named then 1 else 0 end) as bigint) as n_named,
    cast(sum(case when in_lineage and not is_named and relation = 'SD 1.5' then 1 else 0 end) as bigint)
        as n_on_sd15,
    cast(sum(case when in_lineage and not is_named and relation = 'mirror' then 1 else 0 end) as bigint)
        as n_on_mirror,
    cast(sum(case when in_lineage and not is_named and relation = 'named derivative' then 1 else 0 end) as bigint)
        as n_on_derivative,
    cast(sum(case when in_lineage and removed_on is null then 1 else 0 end) as bigint) as n_still_listed,
    cast(sum(case when in_lineage and downloads_total is not null then 1 else 0 end) as bigint)
        as n_with_downloads,
    cast(sum(case when in_lineage then downloads_total end) as bigint) as downloads_total
from models
group by platform, month
