with

payments as (
    select * from {{ ref('stg_app__payments') }}
    where not is_deleted_in_source
),

pivoted as (
    select
        order_id,
        sum(case when payment_type = 'payment' then amount else 0 end) as paid_amount,
        sum(case when payment_type = 'refund' then amount else 0 end) as refund_amount,
        sum(case when payment_type = 'payment' then 1 else 0 end) as payment_count,
        sum(case when payment_type = 'refund' then 1 else 0 end) as refund_count,
        min(case when payment_type = 'payment' then created_at end) as first_paid_at,
        max(case when payment_type = 'refund' then created_at end) as last_refunded_at
    from payments
    group by 1
),

final as (
    select
        order_id,
        cast(paid_amount as decimal(18, 2)) as paid_amount,
        cast(refund_amount as decimal(18, 2)) as refund_amount,
        cast(paid_amount - refund_amount as decimal(18, 2)) as net_paid_amount,
        cast(payment_count as {{ dbt.type_bigint() }}) as payment_count,
        cast(refund_count as {{ dbt.type_bigint() }}) as refund_count,
        first_paid_at,
        last_refunded_at
    from pivoted
)

select * from final
