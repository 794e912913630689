-- Subculture families by creation month: an item belongs to a family when one of its tags maps
-- to it, or (models) when its base model is trained on booru vocabulary (Pony, Illustrious...).
with items as (
    select platform, 'model' as entity, model_id as item_id, month, tags, booru_base_model from {{ ref('models') }}
    union all
    select platform, 'image' as entity, image_id as item_id, month, tags, false from {{ ref('images') }}
),

totals as (
    select platform, entity, month, count(*) as n_total from items where month is not null group by all
),

memberships as (
    select items.platform, items.entity, items.item_id, items.month, rules.subculture
    from (select platform, entity, item_id, month, unnest(tags) as tag from items) as items
    inner join {{ ref('rules_subculture_tags') }} as rules on rules.tag = items.tag
    union
    select platform, entity, item_id, month, 'booru vocabulary' from items where booru_base_model
)

select
    memberships.platform,
    memberships.entity,
    memberships.month,
    memberships.subculture,
    count(distinct memberships.item_id) as n_items,
    count(distinct memberships.item_id) / any_value(totals.n_total) as share
from memberships
inner join totals using (platform, entity, month)
where memberships.month is not null
group by memberships.platform, memberships.entity, memberships.month, memberships.subculture
