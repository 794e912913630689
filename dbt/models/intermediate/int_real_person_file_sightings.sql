{{ config(on_schema_change='fail', **incremental_by_snapshot('snapshot_date')) }}
-- Weight files of Civitai models flagged real-person by the declared, tagged or name tier, per
-- snapshot that showed them flagged, leaving out files shared in that snapshot (see the
-- hash_tier_rules docs): the registry the hash tier matches against. Kept per snapshot so a
-- daily build reads only the new snapshot's files, not every file of every snapshot again.
-- depends_on: {{ ref('int_snapshots') }}
{% set load_from = reload_from('civitai_models') %}

with files as (
    select platform, model_id, snapshot_date, sha256, is_weight
    from {{ ref('int_model_files') }}
    where platform = 'civitai' and snapshot_date >= {{ load_from }}
),

flagged as (
    select model_id, snapshot_date, snapshot_version
    from {{ ref('int_civitai__model_snapshots') }}
    where snapshot_date >= {{ load_from }}
        and (real_person_declared or real_person_tagged or real_person_name_match)
),

flagged_weights as (
    select files.platform, files.snapshot_date, flagged.snapshot_version, files.sha256, files.model_id
    from files
    inner join flagged using (model_id, snapshot_date)
    where files.is_weight
),

carriers as (  -- every file of the snapshot with such a hash, whoever ships it and as what
    select * from files where sha256 in (select sha256 from flagged_weights)
),

shared as ({{ shared_files('carriers') }})

select distinct
    flagged_weights.snapshot_date,
    flagged_weights.snapshot_version,
    flagged_weights.sha256,
    flagged_weights.model_id as civitai_model_id,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from flagged_weights
left join shared using (platform, snapshot_date, sha256)
where shared.sha256 is null
