-- Raw tags by creation month, with the subculture family each maps to (if any).
with items as (
    select platform, 'model' as entity, model_id as item_id, month, tags from {{ ref('models') }}
    union all
    select platform, 'image' as entity, image_id as item_id, month, tags from {{ ref('images') }}
),

totals as (
    select platform, entity, month, count(*) as n_total from items where month is not null group by all
),

tagged as (
    select distinct platform, entity, item_id, month, unnest(tags) as tag from items where month is not null
)

select
    tagged.platform,
    tagged.entity,
    tagged.month,
    tagged.tag,
    any_value(rules.subculture) as subculture,
    count(*) as n_items,
    count(*) / any_value(totals.n_total) as share
from tagged
inner join totals using (platform, entity, month)
left join {{ ref('rules_subculture_tags') }} as rules on rules.tag = tagged.tag
group by tagged.platform, tagged.entity, tagged.month, tagged.tag
