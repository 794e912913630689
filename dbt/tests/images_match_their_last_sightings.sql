-- `images` holds every image int_image_last_seen knows, once, with the sighting that table names
-- as its last: the same first and last snapshot, snapshot version, creation month and NSFW tiers.
-- Compared column by column, both ways (an image missing, extra or different is a failing row),
-- over the images last seen on or after the earliest last sighting the latest build wrote: a
-- daily build compares the day's images (both tables are stored in load order, so the filter on
-- last_seen skips the older row groups), a full refresh compares every image. The rows before
-- were compared by the builds that wrote them; their number is held equal here too, which reads
-- no data.
-- Each side is first summed into a fingerprint (its row count and the sum of a hash of each row),
-- streaming, in constant memory; only when the fingerprints differ are both sides' rows counted in
-- one grouping to name the rows that differ (a row the two sides hold a different number of times
-- fails, once). The grouping alone held both tables whole in one hash table on a full refresh
-- (2 x 43M rows at the large tier): it ran out of DuckDB's 5GB there (README, "Large tier full
-- build's memory, wave 16").
{% set compared_columns = ['image_id', 'first_seen', 'last_seen', 'last_seen_version', 'month', 'nsfw_any', 'nsfw_strict'] %}
{% set columns = compared_columns | join(', ') %}
{#- Each side is a subquery written out where it is read, not a CTE: DuckDB materializes a CTE read
    twice, which held both sides whole in memory. -#}
{% set last_sightings %}
    select cast(image_id as {{ type_text() }}) as image_id, {{ compared_columns[1:] | join(', ') }}
    from {{ ref('int_image_last_seen') }}
    where last_seen >= (select last_seen from written_from)
{% endset %}
{% set published %}
    select {{ columns }}
    from {{ ref('images') }}
    where platform = 'civitai' and last_seen >= (select last_seen from written_from)
{% endset %}

with written_from as (
    select min(last_seen) as last_seen
    from {{ ref('int_image_last_seen') }}
    where loaded_at = (select max(loaded_at) from {{ ref('int_image_last_seen') }})
),

fingerprints as (
    select
        ls.n_rows <> pub.n_rows or ls.hash_sum <> pub.hash_sum as sides_differ
    from (select {{ rows_fingerprint(compared_columns) }} from ({{ last_sightings }}) as last_sightings) as ls
    cross join (select {{ rows_fingerprint(compared_columns) }} from ({{ published }}) as published) as pub
),

compared as (  -- how often each side holds each row, when the sides differ
    select
        {{ columns }},
        sum(in_last_sightings) as n_last_sightings,
        sum(1 - in_last_sightings) as n_published
    from (
        select *, 1 as in_last_sightings from ({{ last_sightings }}) as last_sightings
        where (select sides_differ from fingerprints)
        union all
        select *, 0 as in_last_sightings from ({{ published }}) as published
        where (select sides_differ from fingerprints)
    ) as both_sides
    group by {{ columns }}
),

counts as (
    select
        (select count(*) from {{ ref('images') }} where platform = 'civitai') as n_images,
        (select count(*) from {{ ref('int_image_last_seen') }}) as n_last_sightings
)

select
    case
        when n_last_sightings > n_published then 'in int_image_last_seen, not so in images'
        else 'in images, not so in int_image_last_seen'
    end as problem,
    image_id,
    last_seen
from compared
where n_last_sightings <> n_published
union all
select 'row counts differ: ' || n_images || ' vs ' || n_last_sightings as problem, null as image_id, null as last_seen
from counts
where n_images <> n_last_sightings
