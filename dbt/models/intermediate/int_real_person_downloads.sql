{{ config(on_schema_change='fail', **incremental_by_snapshot(['platform', 'snapshot_date'])) }}
-- Per platform and complete model snapshot, what the models depicting a real person (any tier, in
-- any snapshot: models.real_person) contributed to real_person_downloads_by_snapshot: how many the
-- snapshot listed, their counters, how many it saw first, and the downloads they accrued (macro
-- downloads_accrued; each model's counter is compared with its previous sighting with one). The
-- mart adds the running totals. A sum over models, so a daily build adds what changed:
--   * the new snapshot's rows, from its real-person sightings, each compared with the model's last
--     earlier counter: the one of the snapshot before when it was flagged there with a counter,
--     else read from the model's earlier sightings (for those models alone);
--   * for a model no earlier sighting showed as a real person (flagged for the first time by the
--     new snapshot), its whole history, added to the rows of the earlier snapshots it was seen in.
-- Only an ordinary day can do so: after a snapshot imported late or retaken (earlier than rows
-- already written, or a version the table has not loaded: reload_from), the platform's rows are
-- all recomputed; a withdrawal makes the build a full refresh.
-- depends_on: {{ ref('int_snapshots') }}
{%- set sources = {'civitai': 'civitai_models', 'huggingface': 'hf_models'} %}
{%- set since = {} %}
{%- for platform, source in sources.items() %}
    {%- set load_from = reload_from(source, platform) %}
    {#- the first snapshot whose rows this build computes from sightings alone: every one, unless the day is ordinary #}
    {%- do since.update({platform: load_from if appends_to_loaded(platform, load_from, date_column='snapshot_date') else "date '0001-01-01'"}) %}
{%- endfor %}
{#- the last snapshot before the ones computed whole, as a condition (a literal date: pruned) #}
{%- set boundary -%}
    ({% for platform in sources %}{{ 'or ' if not loop.first }}({alias}platform = '{{ platform }}' and {alias}snapshot_date = {{ model_snapshot_before(platform, since[platform]) }}){% endfor %})
{%- endset %}
{%- set computed -%}
    ({% for platform in sources %}{{ 'or ' if not loop.first }}({alias}platform = '{{ platform }}' and {alias}snapshot_date >= {{ since[platform] }}){% endfor %})
{%- endset %}

with snapshots as (  -- the snapshots whose rows this build computes whole (a row each, even an empty one)
    select platform, snapshot_date
    from {{ ref('int_snapshots') }}
    where entity = 'model' and {{ computed.replace('{alias}', '') }}
    group by platform, snapshot_date
),

members as (
    select platform, model_id, first_seen from {{ ref('models') }} where real_person
),

batch as (  -- the real-person sightings in those snapshots
    select sightings.platform, sightings.model_id, sightings.snapshot_date, sightings.downloads_total
    from {{ ref('model_snapshots') }} as sightings
    inner join members on members.platform = sightings.platform and members.model_id = sightings.model_id
    where {{ computed.replace('{alias}', 'sightings.') }}
),

{% if is_incremental() %}
at_boundary as (  -- the batch's models in the last snapshot before it
    select sightings.platform, sightings.model_id, sightings.snapshot_date, sightings.downloads_total, sightings.real_person
    from {{ ref('model_snapshots') }} as sightings
    where {{ boundary.replace('{alias}', 'sightings.') }}
        and exists (
            select 1 from batch where batch.platform = sightings.platform and batch.model_id = sightings.model_id
        )
),

suspects as (  -- whose history must be read: not there, or there without the flag or a counter
    select distinct batch.platform, batch.model_id
    from batch
    left join at_boundary on at_boundary.platform = batch.platform and at_boundary.model_id = batch.model_id
    where at_boundary.model_id is null or not coalesce(at_boundary.real_person, false) or at_boundary.downloads_total is null
),

earlier as (  -- every earlier sighting of the suspects
    select sightings.platform, sightings.model_id, sightings.snapshot_date, sightings.downloads_total, sightings.real_person
    from {{ ref('model_snapshots') }} as sightings
    where not {{ computed.replace('{alias}', 'sightings.') }}
        and exists (
            select 1 from suspects where suspects.platform = sightings.platform and suspects.model_id = sightings.model_id
        )
),

history as (  -- beside each, whether any showed the model as a real person, and its last with a counter
    -- (windows over the one scan: Spark inlines a CTE at each reference, and a self-join per step
    -- made this model's plan several times as long)
    select platform, model_id, snapshot_date, downloads_total,
        coalesce(bool_or(real_person) over model, false) as was_flagged,
        max(case when downloads_total is not null then snapshot_date end) over model as last_counted
    from earlier
    window model as (partition by platform, model_id)
),

added as (  -- seen before, but never as a real person: their earlier sightings count from now on
    select platform, model_id, snapshot_date, downloads_total from history where not was_flagged
),
{% endif %}

sightings as (  -- counts: whether the sighting adds to its snapshot's row (else it only seeds the comparison)
    select platform, model_id, snapshot_date, downloads_total, true as counts from batch
    {% if is_incremental() %}
    union all  -- the added models' sightings count; of the others, the last with a counter is compared with
    select platform, model_id, snapshot_date, downloads_total, not was_flagged as counts
    from history
    where not was_flagged or snapshot_date = last_counted
    union all  -- the others were flagged with a counter in the last snapshot before: that counter
    select at_boundary.platform, at_boundary.model_id, at_boundary.snapshot_date, at_boundary.downloads_total, false as counts
    from at_boundary
    where not exists (
        select 1 from suspects where suspects.platform = at_boundary.platform and suspects.model_id = at_boundary.model_id
    )
    {% endif %}
),

counted as (  -- each sighting with a counter, beside the model's previous sighting with one
    select
        platform,
        snapshot_date,
        counts,
        downloads_total,
        lag(downloads_total) over (partition by platform, model_id order by snapshot_date) as previous
    from sightings
    where downloads_total is not null
),

contributions as (
    select
        platform,
        snapshot_date,
        count(*) as n_listed,
        0 as n_listed_with_downloads,
        0 as downloads_listed,
        0 as n_new,
        0 as downloads_added,
        0 as n_counter_falls,
        0 as downloads_fallen
    from sightings
    where counts
    group by platform, snapshot_date
    union all
    select
        platform,
        snapshot_date,
        0,
        count(*),
        sum(downloads_total),
        0,
        sum({{ downloads_accrued('downloads_total', 'previous') }}),
        sum(case when downloads_total < previous then 1 else 0 end),
        sum({{ downloads_fallen('downloads_total', 'previous') }})
    from counted
    where counts
    group by platform, snapshot_date
    union all
    select members.platform, members.first_seen, 0, 0, 0, count(*), 0, 0, 0
    from members
    where {{ computed.replace('{alias}', 'members.').replace('members.snapshot_date', 'members.first_seen') }}
        {% if is_incremental() %}
        or exists (select 1 from added where added.platform = members.platform and added.model_id = members.model_id)
        {% endif %}
    group by members.platform, members.first_seen
    union all
    select platform, snapshot_date, 0, 0, 0, 0, 0, 0, 0 from snapshots
    {% if is_incremental() %}
    union all  -- the rows of earlier snapshots that the newly flagged models add to
    select
        platform, snapshot_date, n_listed, n_listed_with_downloads, downloads_listed, n_new, downloads_added,
        n_counter_falls, downloads_fallen
    from {{ this }} as written
    where not {{ computed.replace('{alias}', 'written.') }}
        and exists (
            select 1 from added where added.platform = written.platform and added.snapshot_date = written.snapshot_date
        )
    {% endif %}
)

select
    contributions.platform,
    contributions.snapshot_date,
    cast(sum(n_listed) as bigint) as n_listed,
    cast(sum(n_listed_with_downloads) as bigint) as n_listed_with_downloads,
    cast(sum(downloads_listed) as bigint) as downloads_listed,  -- 0 when none has a counter
    cast(sum(n_new) as bigint) as n_new,
    cast(sum(downloads_added) as bigint) as downloads_added,
    cast(sum(n_counter_falls) as bigint) as n_counter_falls,
    cast(sum(downloads_fallen) as bigint) as downloads_fallen,
    max(versions.snapshot_version) as snapshot_version
from contributions
inner join ({{ model_snapshot_versions() }}) as versions
    on versions.platform = contributions.platform and versions.snapshot_date = contributions.snapshot_date
group by contributions.platform, contributions.snapshot_date
