-- The reconciliation tests compare raw and the marts with audit.* - the sources as they were when the snapshot was
-- taken, right after a load. A raw table loaded after the snapshot (`meltano run el` by hand, without `tidewater
-- reconcile`) makes them compare today's raw with an older source: they fail on rows that are fine, or pass on
-- stale keys. Fails listing each raw table the reconciliation depends on that was loaded after the snapshot, or
-- one row when no snapshot time is recorded.

{%- set raw_tables = [
    ('app', 'customers'),
    ('app', 'products'),
    ('app', 'orders'),
    ('app', 'order_items'),
    ('app', 'payments'),
    ('app', 'deleted_records'),
    ('events', 'events'),
] %}

with

snapshot_taken as (
    select * from {{ source('audit', 'snapshot_taken') }}
),

snapshot_time as (
    -- taken_at has a time zone; the loaders' _sdc_batched_at is UTC without one.
    select max({{ utc_timestamp('taken_at') }}) as taken_at
    from snapshot_taken
),

raw_loads as (
    {% for source_name, table_name in raw_tables %}
        select
            '{{ source_name }}.{{ table_name }}' as raw_table,
            max(_sdc_batched_at) as last_loaded_at
        from {{ source(source_name, table_name) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

loaded_after_snapshot as (
    select
        raw_loads.raw_table,
        raw_loads.last_loaded_at,
        snapshot_time.taken_at as snapshot_taken_at,
        'loaded after the audit snapshot: run `tidewater reconcile`' as problem
    from raw_loads
    cross join snapshot_time
    where raw_loads.last_loaded_at > snapshot_time.taken_at
),

no_snapshot as (
    select
        'audit.snapshot_taken' as raw_table,
        cast(null as {{ dbt.type_timestamp() }}) as last_loaded_at,
        cast(null as {{ dbt.type_timestamp() }}) as snapshot_taken_at,
        'no audit snapshot time recorded: run `tidewater reconcile`' as problem
    from snapshot_time
    where snapshot_time.taken_at is null
),

final as (
    select * from loaded_after_snapshot
    union all
    select * from no_snapshot
)

select * from final
