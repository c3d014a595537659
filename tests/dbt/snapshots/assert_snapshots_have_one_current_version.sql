-- SCD2 history: each customer and product has exactly one current version (dbt_valid_to null) - the row recording
-- a hard delete counts as the current one - and its versions never overlap. Fails listing the keys that break it.

with

customer_versions as (
    select
        'snp_app__customers' as snapshot_name,
        customer_id as key_id,
        dbt_valid_from,
        dbt_valid_to
    from {{ ref('snp_app__customers') }}
),

product_versions as (
    select
        'snp_app__products' as snapshot_name,
        product_id as key_id,
        dbt_valid_from,
        dbt_valid_to
    from {{ ref('snp_app__products') }}
),

versions as (
    select * from customer_versions
    union all
    select * from product_versions
),

current_counts as (
    select
        snapshot_name,
        key_id,
        sum(case when dbt_valid_to is null then 1 else 0 end) as current_versions
    from versions
    group by 1, 2
),

overlapping_versions as (
    select
        earlier.snapshot_name,
        earlier.key_id
    from versions as earlier
    inner join versions as later
        on
        earlier.snapshot_name = later.snapshot_name
        and earlier.key_id = later.key_id
        and earlier.dbt_valid_from < later.dbt_valid_from
        and coalesce(earlier.dbt_valid_to, later.dbt_valid_from) > later.dbt_valid_from
),

final as (
    select
        snapshot_name,
        key_id,
        'current versions: ' || cast(current_versions as {{ dbt.type_string() }}) as problem
    from current_counts
    where current_versions != 1
    union all
    select distinct
        snapshot_name,
        key_id,
        'overlapping versions' as problem
    from overlapping_versions
)

select * from final
