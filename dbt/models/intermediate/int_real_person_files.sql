-- Files of Civitai models flagged real-person by the declared, tagged or name tier, with the
-- first snapshot that showed them flagged: the registry the hash tier matches against.
select
    files.sha256,
    cast(files.model_id as varchar) as civitai_model_id,
    min(files.snapshot_date) as first_flagged_on
from {{ ref('stg_civitai__model_files') }} as files
inner join {{ ref('int_civitai__model_snapshots') }} as models
    on models.snapshot_date = files.snapshot_date and models.model_id = cast(files.model_id as varchar)
where files.sha256 is not null
    and (models.real_person_declared or models.real_person_tagged or models.real_person_name_match)
group by all
