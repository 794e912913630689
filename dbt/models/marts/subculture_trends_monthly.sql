-- Subculture families by creation month: an item belongs to a family when one of its tags maps
-- to it, or (models) when its base model is trained on booru vocabulary (Pony, Illustrious...).
-- Images come already counted per snapshot they were last seen in (int_image_counts_by_last_seen).
with models as (
    select platform, model_id, month, tags, booru_base_model from {{ ref('models') }} where month is not null
),

image_counts as (
    select * from {{ ref('int_image_counts_by_last_seen') }} where month is not null
),

model_memberships as (
    select models.platform, models.model_id, models.month, rules.subculture
    from (select platform, model_id, month, {{ unnest('tags') }} as tag from models) as models
    inner join {{ ref('rules_subculture_tags') }} as rules on rules.tag = models.tag
    union
    select platform, model_id, month, 'booru vocabulary' from models where booru_base_model
),

counts as (
    select platform, 'model' as entity, month, subculture, count(distinct model_id) as n_items
    from model_memberships
    group by all
    union all
    select platform, 'image', month, label, cast(sum(n_items) as bigint)
    from image_counts
    where kind = 'subculture'
    group by all
)

select
    counts.platform,
    counts.entity,
    counts.month,
    counts.subculture,
    counts.n_items,
    counts.n_items / totals.n_total as share
from counts
inner join {{ ref('int_items_by_month') }} as totals using (platform, entity, month)
