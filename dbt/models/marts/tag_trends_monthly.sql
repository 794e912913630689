-- Raw tags by creation month, with the subculture family each maps to (if any).
-- An item's tags are de-duplicated in its own list. Images come already counted per snapshot
-- they were last seen in (int_image_counts_by_last_seen), so tens of millions of image tags are
-- not unnested again every day.
with models as (
    select platform, month, tags from {{ ref('models') }} where month is not null
),

image_counts as (
    select * from {{ ref('int_image_counts_by_last_seen') }} where month is not null
),

counts as (
    select platform, 'model' as entity, month, tag, count(*) as n_items
    from (select platform, month, {{ unnest(list_distinct('tags')) }} as tag from models)
    group by all
    union all
    select platform, 'image', month, label, cast(sum(n_items) as bigint) from image_counts where kind = 'tag' group by all
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
inner join {{ ref('int_items_by_month') }} as totals using (platform, entity, month)
left join {{ ref('rules_subculture_tags') }} as rules on rules.tag = counts.tag
