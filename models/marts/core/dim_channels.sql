with

channels as (
    select * from {{ ref('channels') }}
),

final as (
    select
        channel_code,
        channel_name,
        is_paid
    from channels
)

select * from final
