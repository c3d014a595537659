with

source as (
    select * from {{ source('marketing', 'marketing_spend') }}
),

channel_aliases as (
    select * from {{ ref('channel_aliases') }}
),

trimmed as (
    select
        nullif(trim(spend_date), '') as spend_date_text,
        nullif(trim(channel), '') as raw_channel_name,
        nullif(trim(amount_spent_usd), '') as amount_spent_text,
        nullif(trim(clicks), '') as clicks_text,
        nullif(trim(impressions), '') as impressions_text,
        nullif(trim(notes), '') as notes,
        -- The loader records the file's absolute path: relative to the landing zone, the file stays the same file
        -- (its older snapshots superseded) when the data folder moves or is copied, instead of counting twice.
        regexp_replace(_sdc_filename, '^.*/landing/', '') as source_file,
        _sdc_worksheet as source_worksheet,
        cast(_sdc_last_modified as {{ dbt.type_timestamp() }}) as file_modified_at,
        cast(_sdc_batched_at as {{ dbt.type_timestamp() }}) as loaded_at
    from source
),

non_blank as (
    select * from trimmed
    where
        spend_date_text is not null
        or raw_channel_name is not null
        or amount_spent_text is not null
        or clicks_text is not null
        or impressions_text is not null
        or notes is not null
),

ranked as (
    select
        *,
        max(file_modified_at) over (partition by source_file) as latest_file_modified_at,
        row_number() over (
            partition by
                source_file,
                spend_date_text,
                raw_channel_name,
                amount_spent_text,
                clicks_text,
                impressions_text,
                notes
            order by file_modified_at desc, loaded_at desc
        ) as load_rank,
        count(*) over (
            partition by
                source_file,
                spend_date_text,
                raw_channel_name,
                amount_spent_text,
                clicks_text,
                impressions_text,
                notes
        ) as copy_count
    from non_blank
),

latest as (
    select * from ranked
    where
        load_rank = 1
        and (
            latest_file_modified_at is null
            or file_modified_at = latest_file_modified_at
        )
),

parsed as (
    select
        {{ dbt.hash(dbt.concat([
            "coalesce(latest.source_file, '')", "'|'",
            "coalesce(latest.spend_date_text, '')", "'|'",
            "coalesce(latest.raw_channel_name, '')", "'|'",
            "coalesce(latest.amount_spent_text, '')", "'|'",
            "coalesce(latest.clicks_text, '')", "'|'",
            "coalesce(latest.impressions_text, '')", "'|'",
            "coalesce(latest.notes, '')"
        ])) }} as marketing_spend_id,
        {{ parse_spreadsheet_date('latest.spend_date_text') }} as spend_date,
        latest.spend_date_text,
        channel_aliases.channel_code,
        latest.raw_channel_name,
        {{ parse_money('latest.amount_spent_text') }} as spend_amount,
        {{ money_format_problem('latest.amount_spent_text') }} as amount_problem,
        latest.amount_spent_text,
        {{ parse_spreadsheet_integer('latest.clicks_text') }} as clicks,
        {{ parse_spreadsheet_integer('latest.impressions_text') }} as impressions,
        latest.clicks_text,
        latest.impressions_text,
        latest.notes,
        latest.source_file,
        latest.source_worksheet,
        latest.file_modified_at,
        latest.copy_count,
        latest.loaded_at
    from latest
    left join channel_aliases
        on lower(latest.raw_channel_name) = channel_aliases.raw_channel_name
),

-- A line that sums other lines (a total, a subtotal, a period's figure) would count their spend twice: it is kept
-- here, flagged, and the mart leaves it out. Its label can sit in any cell; a number with neither a day nor a
-- channel is one too (it can only be a figure about other lines).
summary_rows as (
    select
        *,
        coalesce(
            {{ is_total_label('spend_date_text') }}
            or {{ is_total_label('raw_channel_name') }}
            or {{ is_total_label('amount_spent_text') }}
            or {{ is_total_label('clicks_text') }}
            or {{ is_total_label('impressions_text') }}
            or {{ is_total_label('notes', anywhere=false) }}
            or (spend_date is null and {{ is_period_label('spend_date_text') }})
            or (
                spend_date_text is null
                and raw_channel_name is null
                and coalesce(amount_spent_text, clicks_text, impressions_text) is not null
            ),
            false
        ) as is_summary_row
    from parsed
),

final as (
    select
        marketing_spend_id,
        spend_date,
        spend_date_text,
        channel_code,
        raw_channel_name,
        spend_amount,
        case when spend_amount is null then amount_spent_text end as raw_amount_spent,
        amount_problem,
        clicks,
        case when clicks is null then clicks_text end as raw_clicks,
        impressions,
        case when impressions is null then impressions_text end as raw_impressions,
        notes,
        is_summary_row,
        spend_date is null as is_date_unparseable,
        channel_code is null as is_channel_unmapped,
        spend_amount is null as is_amount_unparseable,
        source_file,
        source_worksheet,
        file_modified_at,
        copy_count,
        loaded_at
    from summary_rows
)

select * from final
