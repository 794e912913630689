-- The names seed in the same normal form as the n-grams it is matched against.
select distinct
    {{ normalise_text('name') }} as name_key,
    name
from {{ ref('rules_real_person_names') }}
where {{ normalise_text('name') }} <> ''
