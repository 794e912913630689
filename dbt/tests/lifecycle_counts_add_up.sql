-- Visible models of a snapshot = visible before + new - removed (absent) - those that left
-- while carrying a mode, counted per source chain; checked where no model reappeared.
with counts as (
    select
        platform,
        snapshot_date,
        n_visible,
        n_new,
        n_removed,
        lag(n_visible) over (partition by platform order by snapshot_date) as n_visible_before
    from {{ ref('lifecycle_by_snapshot') }}
)

select * from counts
where n_visible_before is not null and n_visible > n_visible_before + n_new
