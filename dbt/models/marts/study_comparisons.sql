-- Each published figure of the studies hubwatch continues (seed study_figures: value, source, how
-- sure) beside hubwatch's measure of the same thing in this build, and why the two differ. Each
-- hubwatch_measure_key is one computation below (with hubwatch_parameter: a month, a date, a base
-- model); a count has its value as numerator, a share its numerator and denominator.
with figures as (
    select * from {{ ref('study_figures') }}
),

models as (
    select * from {{ ref('models') }}
),

civitai_models as (
    select * from models where platform = 'civitai'
),

image_days as (  -- Civitai images by creation day, summed over the snapshots they were last seen in
    select created_day, sum(n_items) as n_items, sum(n_nsfw_any) as n_nsfw_any
    from {{ ref('int_image_counts_by_created_day') }}
    group by created_day
),

image_months as (
    select month, n_items, n_nsfw_any
    from {{ ref('nsfw_share_monthly') }}
    where platform = 'civitai' and entity = 'image'
),

last_civitai_snapshot as (
    select max(snapshot_date) as snapshot_date from {{ ref('int_snapshots') }} where source = 'civitai_models'
),

adapters as (  -- the adapters the last Civitai model snapshot listed
    select sightings.base_model, sightings.downloads_total
    from {{ ref('model_snapshots') }} as sightings
    inner join last_civitai_snapshot on last_civitai_snapshot.snapshot_date = sightings.snapshot_date
    inner join {{ ref('rules_adapter_model_types') }} as types
        on types.platform = sightings.platform and types.model_type = sightings.model_type
    where sightings.platform = 'civitai'
),

last_downloads as (  -- each platform's running total at its last model snapshot
    select totals.downloads_accrued
    from {{ ref('real_person_downloads_by_snapshot') }} as totals
    inner join (
        select platform, max(snapshot_date) as snapshot_date
        from {{ ref('real_person_downloads_by_snapshot') }}
        group by platform
    ) as last on last.platform = totals.platform and last.snapshot_date = totals.snapshot_date
),

measured as (  -- (figure_id, numerator, denominator) of every figure
    select figures.figure_id, counted.n as numerator, cast(null as bigint) as denominator
    from figures
    cross join (select coalesce(sum(n_items), 0) as n from image_days) as counted
    where figures.hubwatch_measure_key = 'civitai_images_seen'

    union all
    select figures.figure_id, counted.n, cast(null as bigint)
    from figures
    cross join (select count(*) as n from civitai_models) as counted
    where figures.hubwatch_measure_key = 'civitai_models_seen'

    union all
    select figures.figure_id, coalesce(max(image_months.n_items), 0), cast(null as bigint)
    from figures
    left join image_months on image_months.month = cast(figures.hubwatch_parameter as date)
    where figures.hubwatch_measure_key = 'civitai_images_in_month'
    group by figures.figure_id

    union all
    select figures.figure_id, coalesce(max(image_months.n_nsfw_any), 0), coalesce(max(image_months.n_items), 0)
    from figures
    left join image_months on image_months.month = cast(figures.hubwatch_parameter as date)
    where figures.hubwatch_measure_key = 'civitai_images_nsfw_any_in_month'
    group by figures.figure_id

    union all
    select figures.figure_id, coalesce(sum(image_months.n_items), 0), cast(null as bigint)
    from figures
    left join image_months
        on image_months.month between cast(substr(figures.hubwatch_parameter, 1, 10) as date)
        and cast(substr(figures.hubwatch_parameter, 12, 10) as date)
    where figures.hubwatch_measure_key = 'civitai_images_in_months'
    group by figures.figure_id

    union all
    select figures.figure_id, coalesce(sum(image_months.n_nsfw_any), 0), coalesce(sum(image_months.n_items), 0)
    from figures
    left join image_months
        on image_months.month between cast(substr(figures.hubwatch_parameter, 1, 10) as date)
        and cast(substr(figures.hubwatch_parameter, 12, 10) as date)
    where figures.hubwatch_measure_key = 'civitai_images_nsfw_any_in_months'
    group by figures.figure_id

    union all
    select figures.figure_id, count(civitai_models.model_id), cast(null as bigint)
    from figures
    left join civitai_models
        on cast(civitai_models.created_at as date) < cast(figures.hubwatch_parameter as date)
    where figures.hubwatch_measure_key = 'civitai_models_created_before'
    group by figures.figure_id

    union all
    select figures.figure_id, coalesce(sum(image_days.n_items), 0), cast(null as bigint)
    from figures
    left join image_days on image_days.created_day < cast(figures.hubwatch_parameter as date)
    where figures.hubwatch_measure_key = 'civitai_images_created_before'
    group by figures.figure_id

    union all
    select
        figures.figure_id,
        sum(case when civitai_models.nsfw_declared then 1 else 0 end),
        count(civitai_models.model_id)
    from figures
    left join civitai_models
        on cast(civitai_models.created_at as date) < cast(figures.hubwatch_parameter as date)
    where figures.hubwatch_measure_key = 'civitai_models_nsfw_declared_before'
    group by figures.figure_id

    union all
    select
        figures.figure_id,
        coalesce(sum(image_days.n_nsfw_any), 0),
        coalesce(sum(image_days.n_items), 0)
    from figures
    left join image_days on image_days.created_day < cast(figures.hubwatch_parameter as date)
    where figures.hubwatch_measure_key = 'civitai_images_nsfw_any_before'
    group by figures.figure_id

    union all
    select
        figures.figure_id,
        sum(case when civitai_models.real_person then 1 else 0 end),
        count(civitai_models.model_id)
    from figures
    left join civitai_models
        on cast(civitai_models.created_at as date) < cast(figures.hubwatch_parameter as date)
    where figures.hubwatch_measure_key = 'civitai_models_real_person_before'
    group by figures.figure_id

    union all
    select figures.figure_id, counted.n, cast(null as bigint)
    from figures
    cross join (select count(*) as n from models where real_person) as counted
    where figures.hubwatch_measure_key = 'real_person_models_seen'

    union all
    select figures.figure_id, coalesce(counted.n, 0), cast(null as bigint)
    from figures
    cross join (select sum(downloads_accrued) as n from last_downloads) as counted
    where figures.hubwatch_measure_key = 'real_person_downloads_accrued'

    union all
    select figures.figure_id, counted.n_female, counted.n_stated
    from figures
    cross join (
        select
            sum(case when target_gender = 'female' then 1 else 0 end) as n_female,
            sum(case when target_gender in ('female', 'male') then 1 else 0 end) as n_stated
        from models
        where real_person
    ) as counted
    where figures.hubwatch_measure_key = 'real_person_women_share'

    union all
    select figures.figure_id, counted.n, cast(null as bigint)
    from figures
    cross join (select count(*) as n from adapters) as counted
    where figures.hubwatch_measure_key = 'civitai_adapters_listed'

    union all
    select figures.figure_id, count(adapters.base_model), max(counted.n)
    from figures
    cross join (select count(*) as n from adapters) as counted
    left join adapters on adapters.base_model = figures.hubwatch_parameter
    where figures.hubwatch_measure_key = 'civitai_adapters_listed_on_base'
    group by figures.figure_id

    union all
    select figures.figure_id, counted.n, cast(null as bigint)
    from figures
    cross join (select max(downloads_total) as n from adapters) as counted
    where figures.hubwatch_measure_key = 'civitai_adapter_max_downloads'

    union all
    select figures.figure_id, counted.n, cast(null as bigint)
    from figures
    cross join (
        select count(distinct hf_model_id) as n
        from {{ ref('cross_platform_matches') }}
        where civitai_real_person
    ) as counted
    where figures.hubwatch_measure_key = 'reuploads_of_real_person_models'
)

select
    figures.figure_id,
    figures.study,
    figures.figure,
    figures.published_value,
    figures.published_denominator,
    figures.unit,
    figures.published_period,
    figures.confidence,
    figures.source_url,
    figures.hubwatch_measure,
    case
        when figures.unit = 'share' then {{ ratio('measured.numerator', 'measured.denominator') }}
        else cast(measured.numerator as double)
    end as hubwatch_value,
    cast(measured.numerator as bigint) as hubwatch_numerator,
    cast(measured.denominator as bigint) as hubwatch_denominator,
    figures.why_they_differ
from figures
left join measured on measured.figure_id = figures.figure_id
