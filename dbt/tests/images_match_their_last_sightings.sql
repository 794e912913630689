-- `images` holds every image int_image_last_seen knows, once, with the sighting that table names
-- as its last: the same first and last snapshot, snapshot version, creation month and NSFW tiers.
-- Compared column by column, both ways (an image missing, extra or different is a failing row),
-- over the images last seen on or after the earliest last sighting the latest build wrote: a
-- daily build compares the day's images (both tables are stored in load order, so the filter on
-- last_seen skips the older row groups), a full refresh compares every image. The rows before
-- were compared by the builds that wrote them; their number is held equal here too, which reads
-- no data.
-- Both sides' rows are counted in one grouping (a row the two sides hold a different number of
-- times fails, once): what two EXCEPT ALLs found, in a third of their CPU (each numbers every row
-- of both sides by a window over all columns; the full build of the large tier's 40M images, README).
with written_from as (
    select min(last_seen) as last_seen
    from {{ ref('int_image_last_seen') }}
    where loaded_at = (select max(loaded_at) from {{ ref('int_image_last_seen') }})
),

last_sightings as (
    select cast(image_id as {{ type_text() }}) as image_id, first_seen, last_seen, last_seen_version, month, nsfw_any, nsfw_strict
    from {{ ref('int_image_last_seen') }}
    where last_seen >= (select last_seen from written_from)
),

published as (
    select image_id, first_seen, last_seen, last_seen_version, month, nsfw_any, nsfw_strict
    from {{ ref('images') }}
    where platform = 'civitai' and last_seen >= (select last_seen from written_from)
),

compared as (  -- how often each side holds each row
    select
        image_id, first_seen, last_seen, last_seen_version, month, nsfw_any, nsfw_strict,
        sum(in_last_sightings) as n_last_sightings,
        sum(1 - in_last_sightings) as n_published
    from (
        select *, 1 as in_last_sightings from last_sightings
        union all
        select *, 0 as in_last_sightings from published
    ) as both_sides
    group by image_id, first_seen, last_seen, last_seen_version, month, nsfw_any, nsfw_strict
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
