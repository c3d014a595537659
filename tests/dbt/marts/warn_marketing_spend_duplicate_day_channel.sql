{{ config(severity='warn') }}

-- The sheet should hold one line per day per channel. Two different lines for the same day and channel
-- (e.g. a corrected amount typed on a new line, or an edited file re-loaded next to its old version) are
-- both counted in spend. Lists the day, channel and the amounts.

with

marketing_spend as (
    select * from {{ ref('fct_marketing_spend') }}
),

final as (
    select
        spend_date,
        channel_code,
        count(*) as line_count,
        sum(spend_amount) as spend_amount
    from marketing_spend
    where
        spend_date is not null
        and channel_code is not null
    group by 1, 2
    having count(*) > 1
)

select * from final
