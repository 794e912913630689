-- How concentrated the making of real-person models is, by creation month: among the creators who
-- published any model that month, the share of that month's real-person models held by the top 1%
-- and the top 10% of them (ranked by their real-person models; macro top_creators: at least one
-- creator), and the Gini coefficient of real-person models over all of them (macro gini). Every
-- month with a dated model has a row; models without a creator are counted, in no ranking.
with panel as (
    select platform, month, creator_hash, n_models, n_real_person from {{ ref('creator_monthly') }}
),

ranked as (
    select
        platform,
        month,
        n_models,
        n_real_person,
        row_number() over (
            partition by platform, month order by n_real_person desc, creator_hash
        ) as rank_desc,
        row_number() over (
            partition by platform, month order by n_real_person, creator_hash
        ) as rank_asc,
        count(*) over (partition by platform, month) as n_creators
    from panel
),

sized as (
    select
        ranked.*,
        {{ top_creators('n_creators', 1) }} as n_top_1pct,
        {{ top_creators('n_creators', 10) }} as n_top_10pct
    from ranked
),

months as (
    select
        platform,
        month,
        max(n_creators) as n_creators,
        cast(sum(n_models) as bigint) as n_models,
        cast(sum(n_real_person) as bigint) as n_real_person,
        cast(sum(case when n_real_person > 0 then 1 else 0 end) as bigint) as n_real_person_creators,
        max(n_top_1pct) as n_top_1pct,
        cast(sum(case when rank_desc <= n_top_1pct then n_real_person else 0 end) as bigint) as n_real_person_top_1pct,
        max(n_top_10pct) as n_top_10pct,
        cast(sum(case when rank_desc <= n_top_10pct then n_real_person else 0 end) as bigint) as n_real_person_top_10pct,
        cast(sum(rank_asc * n_real_person) as bigint) as ranked_sum
    from sized
    group by platform, month
),

every_month as (  -- every month with a dated model; those without a creator are in no panel
    select
        platform,
        month,
        cast(sum(case when creator_hash is null then 1 else 0 end) as bigint) as n_models_without_creator
    from {{ ref('models') }}
    where month is not null
    group by platform, month
)

select
    every_month.platform,
    every_month.month,
    coalesce(months.n_creators, 0) as n_creators,
    coalesce(months.n_models, 0) as n_models,
    every_month.n_models_without_creator,
    coalesce(months.n_real_person, 0) as n_real_person,
    coalesce(months.n_real_person_creators, 0) as n_real_person_creators,
    coalesce(months.n_top_1pct, 0) as n_top_1pct,
    coalesce(months.n_real_person_top_1pct, 0) as n_real_person_top_1pct,
    {{ ratio('months.n_real_person_top_1pct', 'months.n_real_person') }} as share_top_1pct,
    coalesce(months.n_top_10pct, 0) as n_top_10pct,
    coalesce(months.n_real_person_top_10pct, 0) as n_real_person_top_10pct,
    {{ ratio('months.n_real_person_top_10pct', 'months.n_real_person') }} as share_top_10pct,
    {{ gini('months.n_creators', 'months.n_real_person', 'months.ranked_sum') }} as gini_real_person
from every_month
left join months on months.platform = every_month.platform and months.month = every_month.month
