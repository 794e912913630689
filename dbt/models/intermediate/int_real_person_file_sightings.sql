{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='snapshot_date',
    on_schema_change='fail',
) }}
-- Files of Civitai models flagged real-person by the declared, tagged or name tier, per snapshot
-- that showed them flagged: the registry the hash tier matches against. Kept per snapshot so a
-- daily build reads only the new snapshot's files, not every file of every snapshot again.
-- depends_on: {{ ref('int_snapshots') }}
{% set load_from = reload_from('civitai_models') %}

select distinct
    models.snapshot_date,
    models.snapshot_version,
    files.sha256,
    models.model_id as civitai_model_id
from {{ ref('stg_civitai__model_files') }} as files
inner join {{ ref('int_civitai__model_snapshots') }} as models
    on models.snapshot_date = files.snapshot_date and models.model_id = cast(files.model_id as varchar)
where files.snapshot_date >= {{ load_from }}
    and models.snapshot_date >= {{ load_from }}
    and files.sha256 is not null
    and (models.real_person_declared or models.real_person_tagged or models.real_person_name_match)
