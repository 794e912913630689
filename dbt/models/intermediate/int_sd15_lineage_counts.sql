{{ config(on_schema_change='fail', **incremental_by_snapshot(['platform', 'snapshot_date'])) }}
-- Per platform and complete model snapshot, the SD 1.5 lineage as it listed it (by the models'
-- latest attributes: int_sd15_lineage_models): sd15_lineage_by_snapshot's figures, kept per
-- snapshot (downloads_listed is 0 when no lineage model had a counter; the mart makes it null).
-- Sums over models, so a daily build adds what changed:
--   * the new snapshot's row, from its lineage sightings (and the previous snapshot's, for n_gone);
--   * for each model the new snapshot shows with another lineage state than its last earlier
--     sighting had (a new base model: in or out of the lineage), its earlier sightings are taken
--     out of the earlier snapshots' rows under the old state and counted under the new one.
-- Only an ordinary day can do so: after a snapshot imported late or retaken (reload_from), or when
-- the lineage rules changed (rules_hash), the platform's rows are all recomputed; a withdrawal
-- makes the build a full refresh.
-- depends_on: {{ ref('int_snapshots') }}, {{ ref('rules_sd15_lineage') }}
{%- set rules_hash = seed_fingerprint('rules_sd15_lineage', "platform || '|' || base_model || '|' || match") %}
{%- set rules_changed = rules_changed_since_written(rules_hash) %}
{%- set sources = {'civitai': 'civitai_models', 'huggingface': 'hf_models'} %}
{%- set since = {} %}
{%- for platform, source in sources.items() %}
    {%- set load_from = reload_from(source, platform) %}
    {%- set ordinary = not rules_changed and appends_to_loaded(platform, load_from, date_column='snapshot_date') %}
    {%- do since.update({platform: load_from if ordinary else "date '0001-01-01'"}) %}
{%- endfor %}
{%- set boundary_date, reach = {}, {} %}
{%- for platform in sources %}
    {%- do boundary_date.update({platform: model_snapshot_before(platform, since[platform])}) %}
    {#- the earliest snapshot n_gone compares a computed one with: the previous one of its chain #}
    {%- do reach.update({platform: model_chain_start(platform, since[platform])}) %}
{%- endfor %}
{#- the last snapshot before the ones computed whole, as a condition (a literal date: pruned) -#}
{%- set boundary -%}
    ({% for platform in sources %}{{ 'or ' if not loop.first }}({alias}platform = '{{ platform }}' and {alias}snapshot_date = {{ boundary_date[platform] }}){% endfor %})
{%- endset %}
{%- set computed -%}
    ({% for platform in sources %}{{ 'or ' if not loop.first }}({alias}platform = '{{ platform }}' and {alias}snapshot_date >= {{ since[platform] }}){% endfor %})
{%- endset %}

with chain as (  -- each complete model snapshot beside the previous one of its source and scope
    select platform, snapshot_date, prev_snapshot_date from {{ ref('int_snapshots') }} where entity = 'model'
),

snapshots as (  -- the snapshots whose rows this build computes whole
    select platform, snapshot_date, prev_snapshot_date from chain where {{ computed.replace('{alias}', '') }}
),

lineage as (
    select lineage.platform, lineage.model_id, lineage.is_named, models.first_seen
    from {{ ref('int_sd15_lineage_models') }} as lineage
    inner join {{ ref('models') }} as models
        on models.platform = lineage.platform and models.model_id = lineage.model_id
),

batch as (  -- lineage sightings in those snapshots (counts) and in the ones before them (for n_gone)
    select
        sightings.platform,
        sightings.model_id,
        sightings.snapshot_date,
        sightings.downloads_total,
        lineage.is_named,
        {{ computed.replace('{alias}', 'sightings.') }} as counts
    from {{ ref('model_snapshots') }} as sightings
    inner join lineage on lineage.platform = sightings.platform and lineage.model_id = sightings.model_id
    where {% for platform in sources %}{{ 'or ' if not loop.first }}(sightings.platform = '{{ platform }}' and sightings.snapshot_date >= {{ reach[platform] }}){% endfor %}
),

whole as (  -- the rows of the snapshots computed whole
    select platform, snapshot_date, count(*) as n_listed,
        sum(case when is_named then 1 else 0 end) as n_named_listed,
        0 as n_new, 0 as n_gone,
        count(downloads_total) as n_with_downloads,
        coalesce(sum(downloads_total), 0) as downloads_listed
    from batch
    where counts
    group by platform, snapshot_date
    union all
    select platform, first_seen, 0, 0, count(*), 0, 0, 0
    from lineage
    where {{ computed.replace('{alias}', '').replace('snapshot_date', 'first_seen') }}
    group by platform, first_seen
    union all  -- listed by the previous snapshot of the chain, not by this one
    select snapshots.platform, snapshots.snapshot_date, 0, 0, 0, count(*), 0, 0
    from snapshots
    inner join batch as before
        on before.platform = snapshots.platform and before.snapshot_date = snapshots.prev_snapshot_date
    where not exists (
        select 1 from batch as now
        where now.platform = snapshots.platform and now.snapshot_date = snapshots.snapshot_date
            and now.model_id = before.model_id
    )
    group by snapshots.platform, snapshots.snapshot_date
    union all
    select platform, snapshot_date, 0, 0, 0, 0, 0, 0 from snapshots
),

{% if is_incremental() %}
seen as (  -- every model the computed snapshots list, of the lineage or not
    select distinct sightings.platform, sightings.model_id
    from {{ ref('model_snapshots') }} as sightings
    where {{ computed.replace('{alias}', 'sightings.') }}
),

at_boundary as (  -- each model's lineage state in the last snapshot before the computed ones (those seen: suspects)
    select sightings.platform, sightings.model_id,
        bool_or(rules.platform is not null) as is_member,
        bool_or({{ sd15_lineage_match('rules', 'sightings.model_id') }} and sightings.platform = 'huggingface') as is_named
    from {{ ref('model_snapshots') }} as sightings
    left join {{ ref('rules_sd15_lineage') }} as rules
        on {{ sd15_lineage_rule_applies('rules', 'sightings.platform', 'sightings.model_id', 'sightings.base_model') }}
    where {{ boundary.replace('{alias}', 'sightings.') }}
    group by sightings.platform, sightings.model_id
),

suspects as (  -- seen again with another state than there, or not seen there: their history is read
    select seen.platform, seen.model_id
    from seen
    left join at_boundary on at_boundary.platform = seen.platform and at_boundary.model_id = seen.model_id
    left join lineage on lineage.platform = seen.platform and lineage.model_id = seen.model_id
    where at_boundary.model_id is null
        or at_boundary.is_member <> (lineage.model_id is not null)
        or (at_boundary.is_member and at_boundary.is_named is distinct from lineage.is_named)
),

earlier as (  -- the suspects' earlier sightings, each with its lineage state then (is_member: a rule applied)
    select sightings.platform, sightings.model_id, sightings.snapshot_date, sightings.downloads_total,
        bool_or(rules.platform is not null) as is_member,
        bool_or({{ sd15_lineage_match('rules', 'sightings.model_id') }} and sightings.platform = 'huggingface') as is_named
    from {{ ref('model_snapshots') }} as sightings
    left join {{ ref('rules_sd15_lineage') }} as rules
        on {{ sd15_lineage_rule_applies('rules', 'sightings.platform', 'sightings.model_id', 'sightings.base_model') }}
    where not {{ computed.replace('{alias}', 'sightings.') }}
        and exists (select 1 from suspects where suspects.platform = sightings.platform and suspects.model_id = sightings.model_id)
    group by sightings.platform, sightings.model_id, sightings.snapshot_date, sightings.downloads_total
),

was as (  -- beside each, the state of the model's last earlier sighting and its first earlier snapshot
    -- (windows over the one scan: Spark inlines a CTE at each reference, and a self-join per step
    -- made this model's plan hundreds of operators long)
    select platform, model_id, snapshot_date, downloads_total,
        first_value(is_member) over latest as was_member,
        first_value(is_named) over latest as was_named,
        min(snapshot_date) over (partition by platform, model_id) as first_earlier
    from earlier
    window latest as (partition by platform, model_id order by snapshot_date desc)
),

moved as (  -- their earlier sightings, signed: -1 as the earlier rows counted them, +1 as they count now
    select was.platform, was.model_id, was.snapshot_date, was.downloads_total, was.first_earlier, signs.sign,
        case when signs.sign < 0 then was.was_named else lineage.is_named end as is_named
    from was
    left join lineage on lineage.platform = was.platform and lineage.model_id = was.model_id
    inner join (select -1 as sign union all select 1 as sign) as signs
        on (signs.sign < 0 and was.was_member and not coalesce(lineage.is_named = was.was_named, false))
        or (signs.sign > 0 and lineage.model_id is not null
            and not coalesce(was.was_member and was.was_named = lineage.is_named, false))
),

deltas as (  -- n_new at a model's first earlier snapshot (one of its rows)
    select platform, snapshot_date, sum(sign) as n_listed,
        sum(case when is_named then sign else 0 end) as n_named_listed,
        sum(case when snapshot_date = first_earlier then sign else 0 end) as n_new, 0 as n_gone,
        sum(case when downloads_total is not null then sign else 0 end) as n_with_downloads,
        coalesce(sum(sign * downloads_total), 0) as downloads_listed
    from moved
    group by platform, snapshot_date
    union all  -- a snapshot before the computed ones that no longer listed a model its predecessor did
    select chain.platform, chain.snapshot_date, 0, 0, 0, sum(moved.sign), 0, 0
    from moved
    inner join chain on chain.platform = moved.platform and chain.prev_snapshot_date = moved.snapshot_date
    where not {{ computed.replace('{alias}', 'chain.') }}
        and not exists (
            select 1 from moved as now
            where now.platform = moved.platform and now.model_id = moved.model_id and now.sign = moved.sign
                and now.snapshot_date = chain.snapshot_date
        )
    group by chain.platform, chain.snapshot_date
),

{% endif %}

figures as (  -- changes: the snapshot's row is written (a written row alone is kept as it is)
    select *, true as changes from whole
    {% if is_incremental() %}
    union all
    select *, true as changes from deltas
    union all  -- the earlier rows, of which those the deltas change are written again
    select platform, snapshot_date, n_listed, n_named_listed, n_new, n_gone, n_with_downloads, downloads_listed,
        false as changes
    from {{ this }} as written
    where not {{ computed.replace('{alias}', 'written.') }}
    {% endif %}
)

select
    figures.platform,
    figures.snapshot_date,
    cast(sum(n_listed) as bigint) as n_listed,
    cast(sum(n_named_listed) as bigint) as n_named_listed,
    cast(sum(n_new) as bigint) as n_new,
    cast(sum(n_gone) as bigint) as n_gone,
    cast(sum(n_with_downloads) as bigint) as n_with_downloads,
    cast(sum(downloads_listed) as bigint) as downloads_listed,
    max(versions.snapshot_version) as snapshot_version,
    '{{ rules_hash }}' as rules_hash
from figures
inner join ({{ model_snapshot_versions() }}) as versions
    on versions.platform = figures.platform and versions.snapshot_date = figures.snapshot_date
group by figures.platform, figures.snapshot_date
having bool_or(figures.changes)
