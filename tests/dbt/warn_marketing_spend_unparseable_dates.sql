{{ config(severity='warn') }}

-- Spreadsheet lines whose date is blank or not a valid date: their spend is on no day. Lists them as typed.

with

marketing_spend as (
    select * from {{ ref('stg_marketing__marketing_spend') }}
),

final as (
    select
        source_file,
        spend_date_text,
        raw_channel_name,
        spend_amount
    from marketing_spend
    where is_date_unparseable
)

select * from final
