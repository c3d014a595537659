{{ config(severity='warn') }}

-- Spreadsheet lines whose amount is blank or not a number (e.g. `TBD`): they add nothing to spend until
-- fixed in the sheet. Lists each line as typed. Expected: one `TBD` per file.

with

marketing_spend as (
    select * from {{ ref('stg_marketing__marketing_spend') }}
),

final as (
    select
        source_file,
        spend_date_text,
        raw_channel_name,
        raw_amount_spent,
        notes
    from marketing_spend
    where is_amount_unparseable
)

select * from final
