-- Raw tags by creation month, with the subculture family each maps to (if any).
-- Counted before joining: an item's tags are de-duplicated in its own list, so tens of millions
-- of image tags go through one small aggregation instead of a global distinct and two joins.
with items as (
    select platform, 'model' as entity, month, tags from {{ ref('models') }}
    union all
    select platform, 'image' as entity, month, tags from {{ ref('images') }}
),

totals as (
    select platform, entity, month, count(*) as n_total from items where month is not null group by all
),

counts as (
    select platform, entity, month, tag, count(*) as n_items
    from (select platform, entity, month, unnest(list_distinct(tags)) as tag from items where month is not null)
    group by all
)

select
    counts.platform,
    counts.entity,
    counts.month,
    counts.tag,
    rules.subculture,
    counts.n_items,
    counts.n_items / totals.n_total as share
from counts
inner join totals using (platform, entity, month)
left join {{ ref('rules_subculture_tags') }} as rules on rules.tag = counts.tag
