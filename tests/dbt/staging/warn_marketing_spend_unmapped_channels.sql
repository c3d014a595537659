{{ config(severity='warn') }}

-- Spreadsheet channel spellings missing from the channel_aliases seed: their spend is in no channel.
-- Lists each spelling with its lines and amount. Fix: add the spelling to seeds/channel_aliases.csv.

with

marketing_spend as (
    select * from {{ ref('stg_marketing__marketing_spend') }}
),

final as (
    select
        raw_channel_name,
        count(*) as line_count,
        sum(spend_amount) as spend_amount
    from marketing_spend
    -- A summary row's channel cell holds a label (`Total`) or nothing: warn_marketing_spend_summary_rows lists it.
    where is_channel_unmapped and not is_summary_row
    group by 1
)

select * from final
