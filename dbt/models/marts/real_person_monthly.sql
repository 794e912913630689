-- Models that depict real people, by creation month: every tier and their union, the
-- targets' gender (unknown shown, never guessed) and the overlap with NSFW (R and above).
select
    platform,
    month,
    count(*) as n_models,
    cast(count_if(real_person) as bigint) as n_real_person,
    cast(count_if(real_person_declared) as bigint) as n_declared,
    cast(count_if(real_person_tagged) as bigint) as n_tagged,
    cast(count_if(real_person_name_match) as bigint) as n_name_match,
    cast(count_if(real_person_hash_match) as bigint) as n_hash_match,
    cast(count_if(real_person and nsfw_strict) as bigint) as n_real_person_nsfw,
    cast(count_if(real_person and target_gender = 'female') as bigint) as n_female,
    cast(count_if(real_person and target_gender = 'male') as bigint) as n_male,
    cast(count_if(real_person and target_gender = 'unknown') as bigint) as n_unknown_gender,
    count_if(real_person) / count(*) as share_real_person
from {{ ref('models') }}
where month is not null
group by all
