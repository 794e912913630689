-- A removal happens after the last sighting, and an absent model always has a removal date;
-- a model first seen after it was last seen would be a bug in the history itself.
select platform, model_id, first_seen, last_seen, removed_on, removal_kind
from {{ ref('models') }}
where removed_on <= last_seen
    or first_seen > last_seen
    or (removal_kind = 'absent' and removed_on is null)
