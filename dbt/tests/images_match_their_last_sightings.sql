-- Every image int_image_last_seen knows is in `images`, once: its last sighting was found in
-- int_image_sightings (both grains are tested, so equal row counts mean a one-to-one match).
-- Counting rows reads no data, so this costs nothing on a 40M-image warehouse.
select images.n_rows as n_images, last_seen.n_rows as n_last_seen
from (select count(*) as n_rows from {{ ref('images') }}) as images
cross join (select count(*) as n_rows from {{ ref('int_image_last_seen') }}) as last_seen
where images.n_rows <> last_seen.n_rows
