-- Every monthly table counts exactly the dated items of monthly_coverage, for every platform and
-- entity: nothing counted twice, nothing dated left out, nothing undated let in. (Tag and
-- subculture trends count an item once per tag or family; their denominator, int_items_by_month,
-- is checked instead.)
with coverage as (
    select platform, entity, n_dated from {{ ref('monthly_coverage') }}
),

marts as (
    select * from (values
        ('nsfw_share_monthly', null),
        ('real_person_monthly', 'model'),
        ('base_model_mix_monthly', 'model'),
        ('int_items_by_month', null)
    ) as t(mart, only_entity)
),

expected as (
    select coverage.platform, coverage.entity, marts.mart, coverage.n_dated
    from coverage
    cross join marts
    where marts.only_entity is null or marts.only_entity = coverage.entity
),

counted as (
    select platform, entity, 'nsfw_share_monthly' as mart, sum(n_items) as n_counted
    from {{ ref('nsfw_share_monthly') }} group by all
    union all
    select platform, 'model', 'real_person_monthly', sum(n_models)
    from {{ ref('real_person_monthly') }} group by all
    union all
    select platform, 'model', 'base_model_mix_monthly', sum(n_models)
    from {{ ref('base_model_mix_monthly') }} group by all
    union all
    select platform, entity, 'int_items_by_month', sum(n_total)
    from {{ ref('int_items_by_month') }} group by all
)

select *
from expected
full outer join counted using (platform, entity, mart)
where coalesce(expected.n_dated, 0) <> coalesce(counted.n_counted, 0)
