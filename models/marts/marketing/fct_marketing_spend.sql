with

spend as (
    select * from {{ ref('stg_marketing__marketing_spend') }}
),

final as (
    select
        marketing_spend_id,
        spend_date,
        channel_code,
        raw_channel_name,
        spend_amount,
        raw_amount_spent,
        clicks,
        impressions,
        is_date_unparseable,
        is_channel_unmapped,
        is_amount_unparseable,
        notes,
        source_file
    from spend
    -- A total or subtotal line repeats the spend of the lines it sums: counted here, spend would double.
    where not is_summary_row
)

select * from final
