-- The public-figure names the name tier matches, in the same normal form as the n-grams they are
-- matched against: the names seed less the ambiguous names (common words and fictional
-- characters that share a public figure's name; see the name_tier_rules docs).
with names as (
    select {{ normalise_text('name') }} as name_key, name
    from {{ ref('rules_real_person_names') }}
),

ambiguous as (
    select {{ normalise_text('name') }} as name_key
    from {{ ref('rules_ambiguous_names') }}
)

select distinct names.name_key, names.name
from names
left join ambiguous using (name_key)
where names.name_key <> '' and ambiguous.name_key is null
