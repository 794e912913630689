-- Per-creator panels: for each creator (salted hash; the name never leaves the warehouse) and
-- creation month, the models they published, how many depict a real person and how many are NSFW
-- (R and above), and their downloads (each model's counter at its last sighting). Models without a
-- creator or a creation date are not in a panel (creator_concentration_monthly counts the former).
select
    platform,
    creator_hash,
    month,
    count(*) as n_models,
    cast(sum(case when real_person then 1 else 0 end) as bigint) as n_real_person,
    cast(sum(case when nsfw_strict then 1 else 0 end) as bigint) as n_nsfw,
    count(downloads_total) as n_with_downloads,
    cast(sum(downloads_total) as bigint) as downloads_total
from {{ ref('models') }}
where creator_hash is not null and month is not null
group by platform, creator_hash, month
