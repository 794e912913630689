-- Items ever seen, by platform, entity and creation month: the denominator of the trend shares.
-- Images come already counted per snapshot they were last seen in (int_image_counts_by_last_seen).
select platform, 'model' as entity, month, count(*) as n_total
from {{ ref('models') }}
where month is not null
group by all
union all
select platform, 'image', month, cast(sum(n_items) as bigint)
from {{ ref('int_image_counts_by_last_seen') }}
where kind = 'all' and month is not null
group by all
