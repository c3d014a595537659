{#- Every audience's members in one table, for the reverse ETL sync to the CRM: one row per audience and customer.
    A member without granted marketing consent or with a closed account is listed with is_syncable = false and the
    reason, so the sync can count what consent blocked; the sync sends is_syncable rows only. Erased customers are
    in no audience (not in dim_customers). No personal data: customer_id only. -#}

with

likely_to_lapse as (
    select * from {{ ref('dim_audience_likely_to_lapse') }}
),

high_value as (
    select * from {{ ref('dim_audience_high_value') }}
),

abandoned_cart as (
    select * from {{ ref('dim_audience_abandoned_cart') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

members as (
    select
        'likely_to_lapse' as audience_id,
        customer_id,
        as_of_date,
        lapse_rank as audience_rank,
        score,
        revenue_lifetime,
        days_since_last_order,
        cast(null as {{ dbt.type_timestamp() }}) as last_cart_add_at
    from likely_to_lapse

    union all

    select
        'high_value' as audience_id,
        customer_id,
        as_of_date,
        value_rank as audience_rank,
        null as score,
        revenue_lifetime,
        days_since_last_order,
        cast(null as {{ dbt.type_timestamp() }}) as last_cart_add_at
    from high_value

    union all

    select
        'abandoned_cart' as audience_id,
        customer_id,
        as_of_date,
        cast(null as {{ dbt.type_int() }}) as audience_rank,
        null as score,
        cast(null as decimal(18, 2)) as revenue_lifetime,
        cast(null as {{ dbt.type_int() }}) as days_since_last_order,
        last_cart_add_at
    from abandoned_cart
),

final as (
    select
        cast(members.audience_id as {{ dbt.type_string() }}) as audience_id,
        members.customer_id,
        members.as_of_date,
        cast(members.audience_rank as {{ dbt.type_int() }}) as audience_rank,
        members.score,
        cast(members.revenue_lifetime as decimal(18, 2)) as revenue_lifetime,
        cast(members.days_since_last_order as {{ dbt.type_int() }}) as days_since_last_order,
        cast(members.last_cart_add_at as {{ dbt.type_timestamp() }}) as last_cart_add_at,
        customers.has_marketing_consent,
        customers.is_deleted as is_account_closed,
        not customers.is_deleted and customers.has_marketing_consent as is_syncable,
        -- A closed account first: it is no longer a customer to market to, whatever its consent said.
        cast(
            case
                when customers.is_deleted then 'account_closed'
                when not customers.has_marketing_consent then 'no_marketing_consent'
            end as {{ dbt.type_string() }}
        ) as exclusion_reason
    from members
    -- An inner join: a customer erased since the audiences were drawn is in no audience.
    inner join customers
        on members.customer_id = customers.customer_id
)

select * from final
